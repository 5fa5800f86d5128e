"""GRU4Rec never runs over padding, and its length groups compute what a packed GRU does."""

from __future__ import annotations

import torch
from torch.nn.utils.rnn import pack_padded_sequence

from sracl_core.rec.backbones import GRU4RecConfig, build_backbone
from sracl_core.rec.backbones.gru4rec import GRU4Rec
from sracl_core.rec.backbones.lengths import sequence_starts


def test_gru4rec_ignores_left_padding() -> None:
    torch.manual_seed(0)
    model = build_backbone(GRU4RecConfig(), n_items=20, max_len=6).eval()
    with torch.no_grad():
        short = model.encode(torch.tensor([[0, 0, 0, 3, 4, 5]]))
        model.max_len = 3
        tight = model.encode(torch.tensor([[3, 4, 5]]))
    torch.testing.assert_close(short, tight)


def packed_encode(model: GRU4Rec, sequences: torch.Tensor) -> torch.Tensor:
    """The straightforward encoder: left-align, pack, run the GRU once (dropout off)."""
    width = sequences.shape[1]
    starts = sequence_starts(sequences)
    columns = (torch.arange(width) + starts[:, None]).clamp(max=width - 1)
    emb = model.item_embedding(sequences.gather(1, columns))
    packed = pack_padded_sequence(emb, width - starts, batch_first=True, enforce_sorted=False)
    return model.dense(model.gru(packed)[1][-1])


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
    grouped, packed = model.encode(sequences), packed_encode(model, sequences)
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


def test_dropout_draws_the_same_random_stream_as_before() -> None:
    """One mask over the whole aligned batch, as the packed encoder drew it: after an encode
    the generator stands where one dropout call over [B, width, embedding] leaves it."""
    model = build_backbone(GRU4RecConfig(), n_items=50, max_len=8).train()
    sequences = random_sequences(40, 8, 50, seed=2)
    torch.manual_seed(5)
    model.encode(sequences)
    after_encode = torch.rand(3)
    torch.manual_seed(5)
    torch.nn.functional.dropout(torch.ones(40, 8, 64), 0.3, training=True)
    assert torch.equal(after_encode, torch.rand(3))
