"""GRU4Rec never runs over padding, and its length groups compute what a packed GRU does."""

from __future__ import annotations

import pytest
import torch

from sracl_core.rec.backbones import GRU4RecConfig, build_backbone


def test_gru4rec_ignores_left_padding() -> None:
    torch.manual_seed(0)
    model = build_backbone(GRU4RecConfig(), n_items=20, max_len=6).eval()
    with torch.no_grad():
        short = model.encode(torch.tensor([[0, 0, 0, 3, 4, 5]]))
        model.max_len = 3
        tight = model.encode(torch.tensor([[3, 4, 5]]))
    torch.testing.assert_close(short, tight)


def random_sequences(n: int, width: int, n_items: int, seed: int) -> torch.Tensor:
    """Left-padded rows of every length 0..width (an empty row included)."""
    g = torch.Generator().manual_seed(seed)
    items = torch.randint(1, n_items + 1, (n, width), generator=g)
    lengths = torch.randint(0, width + 1, (n,), generator=g)
    lengths[:width + 1] = torch.arange(width + 1)
    return torch.where(torch.arange(width) >= width - lengths[:, None], items, 0)


def encode_both_ways(model: torch.nn.Module, sequences: torch.Tensor, seed: int = 0
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoding by length groups and by the packed GRU (``train.bucketed_encoder:
    false``, and the path off CPU), each from the same random state."""
    outputs = []
    for bucketed in (True, False):
        model.bucketed = bucketed
        torch.manual_seed(seed)
        outputs.append(model.encode(sequences))
    return outputs[0], outputs[1]


@pytest.mark.parametrize("sequences", [
    random_sequences(300, 8, 50, seed=1),            # every length, ~33 rows each
    torch.tensor([[0, 0, 0, 0, 0, 4, 5, 6], [1, 2, 3, 4, 5, 6, 7, 8]]),  # one row per length
    torch.tensor([[0, 0, 0, 0, 0, 0, 0, 9]]),      # a single sequence
    torch.randint(1, 51, (20, 8), generator=torch.Generator().manual_seed(3)),  # one length
    torch.tensor([[0] * 6 + [j, j + 1] for j in range(1, 9)] + [[0] * 8]),  # with an empty row
], ids=["all-lengths", "one-row-groups", "single", "one-length", "empty-row"])
def test_length_groups_give_the_packed_gru_outputs_and_gradients(sequences) -> None:
    torch.manual_seed(0)
    model = build_backbone(GRU4RecConfig(n_layers=2), n_items=50, max_len=8).eval()
    grouped, packed = encode_both_ways(model, sequences)
    # the same terms, summed per length group instead of per time step: a matrix product
    # over fewer rows may round differently (seen: 3e-8), so equal to float rounding
    torch.testing.assert_close(grouped, packed, rtol=1e-6, atol=1e-7)
    weights = torch.randn_like(grouped)
    grads = []
    for output in (grouped, packed):
        model.zero_grad()
        (output * weights).sum().backward(retain_graph=True)
        grads.append({name: p.grad.clone() for name, p in model.named_parameters()})
    for name, grad in grads[0].items():
        reference = grads[1][name]
        torch.testing.assert_close(grad, reference, rtol=0,
                                   atol=1e-6 * float(reference.abs().max()), msg=name)


def test_both_paths_draw_the_same_dropout_masks() -> None:
    """One mask over the whole aligned batch either way, so training-mode outputs agree
    and the generator ends where one dropout call over [B, width, embedding] leaves it:
    the random stream does not depend on the path."""
    model = build_backbone(GRU4RecConfig(), n_items=50, max_len=8).train()
    sequences = random_sequences(40, 8, 50, seed=2)
    grouped, packed = encode_both_ways(model, sequences, seed=5)
    torch.testing.assert_close(grouped, packed, rtol=1e-6, atol=1e-7)
    torch.manual_seed(6)
    assert not torch.allclose(model.encode(sequences), grouped)  # dropout is on
    torch.manual_seed(5)
    torch.nn.functional.dropout(torch.ones(40, 8, 64), 0.3, training=True)
    expected = torch.rand(3)
    for bucketed in (True, False):
        model.bucketed = bucketed
        torch.manual_seed(5)
        model.encode(sequences)
        assert torch.equal(torch.rand(3), expected), bucketed
