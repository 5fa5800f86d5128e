"""GRU4Rec never runs over padding, and its length groups compute what a packed GRU does."""

from __future__ import annotations

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


def test_length_groups_give_the_packed_gru_outputs_and_gradients() -> None:
    torch.manual_seed(0)
    model = build_backbone(GRU4RecConfig(n_layers=2), n_items=50, max_len=8).eval()
    sequences = random_sequences(300, 8, 50, seed=1)
    grouped = model.encode(sequences)
    model.bucketed = False  # train.bucketed_encoder: false, and the path off CPU
    packed = model.encode(sequences)
    weights = torch.randn_like(grouped)
    grads = []
    for output in (grouped, packed):
        model.zero_grad()
        (output * weights).sum().backward(retain_graph=True)
        grads.append({name: p.grad.clone() for name, p in model.named_parameters()})
    # the forward pass is bit for bit the packed one; weight gradients sum the same terms
    # in another order (per length group instead of per time step)
    for name, grad in grads[0].items():
        reference = grads[1][name]
        torch.testing.assert_close(grad, reference, rtol=0,
                                   atol=1e-6 * float(reference.abs().max()), msg=name)
    assert torch.equal(grouped, packed)


def test_both_paths_draw_one_dropout_mask_over_the_aligned_batch() -> None:
    """The random stream does not depend on the path: after an encode, either way, the
    generator stands where one dropout call over [B, width, embedding] leaves it."""
    model = build_backbone(GRU4RecConfig(), n_items=50, max_len=8).train()
    sequences = random_sequences(40, 8, 50, seed=2)
    torch.manual_seed(5)
    torch.nn.functional.dropout(torch.ones(40, 8, 64), 0.3, training=True)
    expected = torch.rand(3)
    for bucketed in (True, False):
        model.bucketed = bucketed
        torch.manual_seed(5)
        model.encode(sequences)
        assert torch.equal(torch.rand(3), expected), bucketed
