"""The in-place full-softmax cross-entropy against ``F.cross_entropy``."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from sracl_core.rec.full_softmax import full_softmax_cross_entropy


def losses_and_grads(loss_fn, vectors, weight, classes):
    vectors = vectors.clone().requires_grad_(True)
    weight = weight.clone().requires_grad_(True)
    table = weight[1:]  # as the backbone's item table: a view skipping the padding row
    loss = loss_fn(vectors, table, classes)
    (loss * 3.0).backward()  # an upstream gradient other than one
    return loss.detach(), vectors.grad, weight.grad


def reference(vectors, table, classes):
    return F.cross_entropy(vectors @ table.T, classes)


@pytest.mark.parametrize("scale", [1.0, 40.0])  # large logits: the max shift matters
def test_loss_and_gradients_match_pytorch(scale: float):
    generator = torch.Generator().manual_seed(0)
    vectors = torch.randn(33, 16, generator=generator) * scale
    weight = torch.randn(501, 16, generator=generator)
    classes = torch.randint(0, 500, (33,), generator=generator)
    classes[:3] = classes[3]  # repeated classes in one batch
    ours = losses_and_grads(full_softmax_cross_entropy, vectors, weight, classes)
    theirs = losses_and_grads(reference, vectors, weight, classes)
    for mine, expected in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, expected, rtol=1e-5, atol=1e-6)
    assert weight.shape == ours[2].shape and torch.all(ours[2][0] == 0)  # padding row


def test_hand_computed_two_class_loss():
    vectors = torch.tensor([[1.0, 0.0]])
    table = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    expected = -torch.log(torch.exp(torch.tensor(2.0)) / (torch.exp(torch.tensor(2.0)) + 1))
    loss = full_softmax_cross_entropy(vectors, table, torch.tensor([0]))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_autocast_and_other_dtypes_use_pytorchs_kernel():
    generator = torch.Generator().manual_seed(1)
    vectors, table = torch.randn(8, 4, generator=generator), torch.randn(10, 4, generator=generator)
    classes = torch.randint(0, 10, (8,), generator=generator)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(full_softmax_cross_entropy(vectors, table, classes),
                           reference(vectors, table, classes))
    doubles = full_softmax_cross_entropy(vectors.double(), table.double(), classes)
    assert doubles.dtype == torch.float64
