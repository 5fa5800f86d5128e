"""SASRec: the fast paths equal a straightforward full-width implementation."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from sracl_core.rec.backbones import (
    SASRecConfig,
    build_backbone,
)
from sracl_core.rec.backbones import sasrec as sasrec_module
from sracl_core.rec.backbones.sasrec import BF16_CPU_ROW_MULTIPLE


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
    # the same sums in another order: float32 reassociation reached 1.2e-6 on a near-zero
    # element once (gradients here are ~1e-3 to 1)
    for fast, full in zip(*grads, strict=True):
        torch.testing.assert_close(fast, full, rtol=1e-4, atol=1e-5)


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


def test_sasrec_bf16_cpu_buckets_have_repeatable_row_counts(monkeypatch: pytest.MonkeyPatch):
    """oneDNN compiles a bf16 kernel per new shape, so bf16 buckets come in row multiples;
    fp32 buckets keep their exact sizes (their float sums, and fingerprints, unchanged)."""
    model = build_backbone(SASRecConfig(), n_items=30, max_len=10, bucket_overhead_tokens=0)
    rows: list[int] = []

    def record(x: torch.Tensor, width: int) -> torch.Tensor:
        rows.append(x.shape[0])
        return torch.zeros(x.shape[0], 64)

    monkeypatch.setattr(model, "_encode_width", record)
    seqs = random_left_padded(300, 10, 30, seed=5)
    assert model.encode(seqs).shape == (300, 64)
    assert len(rows) > 1 and sum(rows) == 300
    rows.clear()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert model.encode(seqs).shape == (300, 64)
    assert len(rows) > 1 and all(n % BF16_CPU_ROW_MULTIPLE == 0 for n in rows)


def test_sasrec_padded_bf16_buckets_give_each_sequence_its_own_output(
        monkeypatch: pytest.MonkeyPatch):
    torch.manual_seed(0)
    model = build_backbone(SASRecConfig(), n_items=40, max_len=12,
                           bucket_overhead_tokens=4).eval()
    seqs = random_left_padded(150, 12, 40, seed=6)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        padded = model.encode(seqs).float()
        monkeypatch.setattr(sasrec_module, "BF16_CPU_ROW_MULTIPLE", 1)
        exact_rows = model.encode(seqs).float()
    # bf16 rounding only (a sequence given another's output would be off by ~1)
    torch.testing.assert_close(padded, exact_rows, rtol=0.05, atol=0.05)
    with torch.no_grad():
        torch.testing.assert_close(padded, model.encode(seqs), rtol=0.05, atol=0.05)
