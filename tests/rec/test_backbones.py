"""Backbones: the fast SASRec paths equal a straightforward full-width implementation."""

from __future__ import annotations

import math
from typing import Literal

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sracl_core.rec.backbones import (
    BACKBONES,
    Backbone,
    BackboneConfig,
    GRU4RecConfig,
    SASRecConfig,
    build_backbone,
)
from sracl_core.rec.backbones.lengths import plan_buckets, sequence_starts
from sracl_core.rec.config import TrainConfig


def naive_sasrec(model, seqs: torch.Tensor) -> torch.Tensor:
    """RecBole-style SASRec in eval mode: every position, additive -10000 mask, last output."""
    b, width = seqs.shape
    h = model.item_embedding(seqs) + model.position_embedding(torch.arange(width))
    h = model.input_norm(h)
    valid = (seqs > 0).float()
    causal = torch.ones(width, width).tril()
    additive = (1.0 - valid[:, None, None, :] * causal) * -10000.0
    for block in model.blocks:
        d = h.shape[-1]
        heads, dh = block.n_heads, d // block.n_heads
        q = block.query(h).view(b, width, heads, dh).transpose(1, 2)
        k, v = block.key_value(h).view(b, width, 2, heads, dh).permute(2, 0, 3, 1, 4)
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + additive, dim=-1)
        context = (probs @ v).transpose(1, 2).reshape(b, width, d)
        h = block.attn_norm(block.attn_out(context) + h)
        h = block.ffn_norm(block.ffn_out(F.gelu(block.ffn_in(h))) + h)
    return h[:, -1]


def random_left_padded(n: int, width: int, n_items: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, width + 1, (n,), generator=g)
    items = torch.randint(1, n_items + 1, (n, width), generator=g)
    return torch.where(torch.arange(width) >= width - lengths[:, None], items, 0)


@pytest.mark.parametrize("bucketed", [False, True])
def test_sasrec_fast_paths_match_naive_full_width(bucketed: bool) -> None:
    torch.manual_seed(0)
    model = build_backbone(SASRecConfig(n_layers=3), n_items=50, max_len=12,
                           bucketed=bucketed, bucket_overhead_tokens=4).eval()
    seqs = random_left_padded(64, 12, 50, seed=1)
    with torch.no_grad():
        torch.testing.assert_close(model.encode(seqs), naive_sasrec(model, seqs),
                                   rtol=1e-5, atol=1e-5)


def test_sasrec_bucketed_equals_unbucketed_gradients() -> None:
    torch.manual_seed(0)
    model = build_backbone(SASRecConfig(), n_items=30, max_len=10,
                           bucket_overhead_tokens=2).eval()
    seqs = random_left_padded(40, 10, 30, seed=2)
    # not a squared norm: LayerNorm output has a fixed norm, so that gradient is pure noise
    direction = torch.randn(40, 64, generator=torch.Generator().manual_seed(3))
    grads = []
    for bucketed in (True, False):
        model.bucketed = bucketed
        model.zero_grad()
        (model.encode(seqs) * direction).sum().backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    for fast, full in zip(*grads, strict=True):
        torch.testing.assert_close(fast, full, rtol=1e-4, atol=1e-6)


def test_sasrec_buckets_on_cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off the CPU every batch is encoded at full width: on CUDA, a new shape per bucket made
    cuDNN's attention rebuild its plan on every call (0.69 s against 0.0088 s per step)."""
    model = build_backbone(SASRecConfig(), n_items=30, max_len=10,
                           bucket_overhead_tokens=0)
    widths: list[int] = []

    def record(x: torch.Tensor, width: int) -> torch.Tensor:
        widths.append(width)
        return torch.zeros(x.shape[0], 64, device=x.device)

    monkeypatch.setattr(model, "_encode_width", record)
    seqs = random_left_padded(40, 10, 30, seed=4)
    model.encode(seqs)
    assert len(widths) > 1 and max(widths) == 10
    widths.clear()
    out = model.encode(seqs.to("meta"))  # any non-CPU device takes the same branch as CUDA
    assert widths == [10] and out.shape == (40, 64)


def test_sasrec_output_ignores_padding_content_and_survives_empty_rows() -> None:
    torch.manual_seed(0)
    model = build_backbone(SASRecConfig(), n_items=20, max_len=6).eval()
    seqs = torch.tensor([[0, 0, 0, 3, 4, 5], [0, 0, 0, 0, 0, 0]])
    with torch.no_grad():
        out = model.encode(seqs)
        model.item_embedding.weight[0] += 1.0  # padding row content must not matter
        again = model.encode(seqs)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[0], again[0])


def test_gru4rec_ignores_left_padding() -> None:
    torch.manual_seed(0)
    model = build_backbone(GRU4RecConfig(), n_items=20, max_len=6).eval()
    with torch.no_grad():
        short = model.encode(torch.tensor([[0, 0, 0, 3, 4, 5]]))
        model.max_len = 3
        tight = model.encode(torch.tensor([[3, 4, 5]]))
    torch.testing.assert_close(short, tight)


def test_scores_cover_items_one_to_n() -> None:
    model = build_backbone(SASRecConfig(), n_items=7, max_len=4, n_special=1)
    assert model.scores(torch.tensor([[0, 1, 2, 3]])).shape == (1, 7)


def test_sequence_starts_and_bucket_plan() -> None:
    seqs = torch.tensor([[0, 0, 1, 2], [0, 5, 0, 2], [0, 0, 0, 0], [1, 2, 3, 4]])
    assert sequence_starts(seqs).tolist() == [2, 1, 3, 0]
    # no overhead: one bucket per distinct length; huge overhead: one bucket
    assert plan_buckets([0, 5, 0, 3, 2], 0) == [(1, 5), (3, 3), (4, 2)]
    assert plan_buckets([0, 5, 0, 3, 2], 10_000) == [(4, 10)]
    assert plan_buckets([0, 0, 0], 5) == []


def test_a_config_variant_without_a_registered_model_is_a_clear_error() -> None:
    class BERT4RecConfig(BackboneConfig):
        name: Literal["bert4rec"] = "bert4rec"

    with pytest.raises(ValueError, match="unknown name 'bert4rec'; expected one of: gru4rec, "
                                         "sasrec"):
        build_backbone(BERT4RecConfig(), n_items=3, max_len=4)


def test_a_backbone_registered_in_one_place_is_configured_and_built(monkeypatch) -> None:
    monkeypatch.setattr(BACKBONES, "_variants", dict(BACKBONES._variants))

    class MeanPoolConfig(BackboneConfig):
        name: Literal["meanpool"] = "meanpool"
        size: int = 8

    @BACKBONES.register("meanpool", MeanPoolConfig)
    class MeanPool(Backbone):
        def __init__(self, cfg: MeanPoolConfig, n_items: int, max_len: int, **_: object):
            super().__init__()
            self.n_items, self.max_len = n_items, max_len
            self.item_embedding = nn.Embedding(n_items + 1, cfg.size, padding_idx=0)

        def encode(self, sequences: torch.Tensor) -> torch.Tensor:
            return self.item_embedding(sequences).mean(1)

    config = TrainConfig.model_validate({"backbone": {"name": "meanpool", "size": 4}})
    model = build_backbone(config.backbone, n_items=5, max_len=3)
    assert isinstance(model, MeanPool) and model.item_embedding.embedding_dim == 4
    assert model.scores(torch.tensor([[0, 1, 2]])).shape == (1, 5)
    with pytest.raises(ValueError, match="expected one of: gru4rec, meanpool, sasrec"):
        TrainConfig(backbone="meanpol")
