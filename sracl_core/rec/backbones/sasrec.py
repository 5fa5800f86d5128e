"""SASRec: causal self-attention over the item sequence (Kang & McAuley 2018).

The block layout follows RecBole's TransformerEncoder, which the SRA-CL reference
uses: post-LayerNorm residual blocks (attention, then a GELU feed-forward), learned
absolute positions, the input LayerNorm + dropout, N(0, 0.02) init.

Only the last position's output is ever used, and that makes two exact
shortcuts possible:

* the last block computes its query, attention output and feed-forward for the
  last position only (other positions only supply keys and values);
* sequences are encoded in buckets of similar length, each bucket cut to its
  longest member's width. Position ids keep their place (a left-padded item at
  column ``c`` of ``max_len`` always gets position ``c``), and padding keys are
  masked, so a real position sees exactly what it sees at full width. This is a
  CPU optimisation only: on CUDA each new shape made cuDNN's fused attention
  build a new plan, and a bucketed SASRec step on an H100 took 0.69 s against
  0.0088 s at a fixed width (``benchmarks/profile_train_step.py``), so there
  every batch runs at full width.

Under bf16 autocast on CPU each bucket's row count is rounded up to a multiple of
``BF16_CPU_ROW_MULTIPLE`` with empty sequences whose outputs are dropped. bf16 matrix
products on CPU go through oneDNN, which builds (JIT-compiles) a kernel for every new
shape, about 2 ms each, and free bucket sizes make nearly every product of a step a
new shape: an SRA-CL step on Beauty took 0.70 s in bf16 against 0.39 s in fp32, and
0.32 s with rounded rows (``benchmarks/bench_precision.py``, one thread, steady state).
The bucket plan counts the padding rows. fp32 runs are untouched.

Padding queries are allowed to attend to themselves: their outputs never reach a
real position (padding keys are masked) and it avoids NaN rows.

On CPU, dropout masks are drawn with ``torch.rand`` instead of ``bernoulli_``:
the same i.i.d. Bernoulli(1 - p) keep mask, about five times cheaper to draw, and
at dropout 0.5 on every layer drawing masks was a quarter of the encoder's time.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import nn

from sracl_core.rec.backbones.base import BACKBONES, Backbone, BackboneConfig
from sracl_core.rec.backbones.lengths import plan_buckets, sequence_starts

BF16_CPU_ROW_MULTIPLE = 128
"""Bucket row counts under bf16 autocast on CPU are multiples of this (see module doc)."""


class SASRecConfig(BackboneConfig):
    """Causal self-attention encoder (post-LayerNorm blocks, learned positions)."""

    name: Literal["sasrec"] = "sasrec"
    n_layers: int = Field(2, ge=1, description="attention blocks")
    n_heads: int = Field(2, ge=1, description="attention heads (must divide hidden_size)")
    hidden_size: int = Field(64, ge=1, description="item embedding and hidden width")
    inner_size: int = Field(256, ge=1, description="feed-forward width")
    hidden_dropout: float = Field(0.5, ge=0.0, lt=1.0, description="dropout on embeddings and "
                                                                   "block outputs")
    attn_dropout: float = Field(0.5, ge=0.0, lt=1.0, description="dropout on attention weights")
    layer_norm_eps: float = Field(1e-12, description="LayerNorm epsilon (RecBole's)")
    initializer_range: float = Field(0.02, description="std of the normal initialisation")

    @model_validator(mode="after")
    def _heads_divide_the_width(self) -> SASRecConfig:
        """Checked on load, so a bad pair fails in seconds, not after the LLM stages."""
        if self.hidden_size % self.n_heads:
            raise ValueError(f"n_heads={self.n_heads} does not divide hidden_size="
                             f"{self.hidden_size}: each head takes hidden_size / n_heads "
                             "dimensions")
        return self


def _bf16_autocast_on_cpu() -> bool:
    """Whether this forward pass runs under the trainer's bf16 autocast on CPU (the only
    case whose buckets are padded: fp32 bucket sizes, and so fp32 results, stay as they were)."""
    return torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Inverted dropout; on CPU the keep mask comes from uniform draws (see module doc)."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu":
        return F.dropout(x, p, training=True)
    keep = torch.rand(x.shape, dtype=torch.float32).ge_(p).mul_(1.0 / (1.0 - p))
    return x * keep.to(x.dtype)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor,
              p: float, training: bool) -> torch.Tensor:
    """Scaled dot-product attention (mask: True = attend) with dropout on the weights."""
    if not training or p == 0.0 or q.device.type != "cpu":
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                              dropout_p=p if training else 0.0)
    scores = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    return dropout(weights, p, training) @ v


class Block(nn.Module):
    """Multi-head causal self-attention + feed-forward, each followed by residual + LayerNorm."""

    def __init__(self, cfg: SASRecConfig) -> None:
        super().__init__()
        d = cfg.hidden_size
        self.n_heads = cfg.n_heads
        self.attn_dropout = cfg.attn_dropout
        self.query = nn.Linear(d, d)
        self.key_value = nn.Linear(d, 2 * d)
        self.attn_out = nn.Linear(d, d)
        self.attn_norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.ffn_in = nn.Linear(d, cfg.inner_size)
        self.ffn_out = nn.Linear(cfg.inner_size, d)
        self.ffn_norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.hidden_dropout = cfg.hidden_dropout

    def forward(self, h: torch.Tensor, mask: torch.Tensor, last_only: bool) -> torch.Tensor:
        """h [b, T, d]; mask broadcastable to [b, heads, Tq, T] (True = attend).

        With ``last_only`` the queries are the last position only and the output is [b, 1, d].
        """
        b, t, d = h.shape
        heads, dh = self.n_heads, d // self.n_heads
        source = h[:, -1:] if last_only else h
        tq = source.shape[1]
        q = self.query(source).view(b, tq, heads, dh).transpose(1, 2)
        k, v = self.key_value(h).view(b, t, 2, heads, dh).permute(2, 0, 3, 1, 4)
        context = attention(q, k, v, mask, self.attn_dropout, self.training)
        context = context.transpose(1, 2).reshape(b, tq, d)
        p, training = self.hidden_dropout, self.training
        h = self.attn_norm(dropout(self.attn_out(context), p, training) + source)
        return self.ffn_norm(dropout(self.ffn_out(F.gelu(self.ffn_in(h))), p, training) + h)


@BACKBONES.register("sasrec", SASRecConfig)
class SASRec(Backbone):
    def __init__(self, cfg: SASRecConfig, n_items: int, max_len: int, *, n_special: int = 0,
                 bucketed: bool = True, bucket_overhead_tokens: int = 256) -> None:
        super().__init__()
        self.n_items, self.max_len = n_items, max_len
        self.bucketed, self.bucket_overhead_tokens = bucketed, bucket_overhead_tokens
        d = cfg.hidden_size
        self.item_embedding = nn.Embedding(n_items + 1 + n_special, d, padding_idx=0)
        self.position_embedding = nn.Embedding(max_len, d)
        self.input_norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.hidden_dropout = cfg.hidden_dropout
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.register_buffer("causal", torch.ones(max_len, max_len).tril().bool(),
                             persistent=False)
        self._init_weights(cfg.initializer_range)

    def _init_weights(self, std: float) -> None:
        # As in the reference: N(0, std) everywhere, the padding row included (it is never read
        # by a real position), zero biases, unit LayerNorms.
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, 0.0, std)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def encode(self, sequences: torch.Tensor) -> torch.Tensor:
        """Left-padded sequences [b, max_len] -> their last position's output [b, d].

        On CPU the rows go through in length buckets (padding keys are masked, so the
        result is the full-width one): most Beauty prefixes are far shorter than max_len.
        """
        width = self.max_len
        if not self.bucketed or sequences.device.type != "cpu" or sequences.shape[0] < 2:
            return self._encode_width(sequences, width)
        lengths = width - sequence_starts(sequences)
        counts = torch.bincount(lengths, minlength=width + 1).tolist()
        order = torch.argsort(lengths, stable=True)
        multiple = BF16_CPU_ROW_MULTIPLE if _bf16_autocast_on_cpu() else 1
        outputs, start = [], 0
        for bucket_width, size in plan_buckets(counts, self.bucket_overhead_tokens, multiple):
            bucket = sequences[order[start:start + size], width - bucket_width:]
            padding = -size % multiple
            if padding:
                bucket = torch.cat([bucket, bucket.new_zeros(padding, bucket_width)])
            outputs.append(self._encode_width(bucket, bucket_width)[:size])
            start += size
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(order.numel(), device=order.device)
        return torch.cat(outputs)[inverse]

    def _encode_width(self, x: torch.Tensor, width: int) -> torch.Tensor:
        """Encode the last ``width`` columns of left-padded sequences; [b, width] -> [b, d]."""
        positions = torch.arange(self.max_len - width, self.max_len, device=x.device)
        h = self.input_norm(self.item_embedding(x) + self.position_embedding(positions))
        h = dropout(h, self.hidden_dropout, self.training)
        valid = x > 0
        last_valid = valid.clone()
        last_valid[:, -1] = True  # an empty sequence attends to its last slot instead of NaN
        keys = last_valid[:, None, None, :]
        causal = self.causal[:width, :width]
        if len(self.blocks) > 1:
            eye = torch.eye(width, dtype=torch.bool, device=x.device)
            full_mask = causal & (keys | eye)
            for block in self.blocks[:-1]:
                h = block(h, full_mask, last_only=False)
        return self.blocks[-1](h, keys, last_only=True)[:, 0]
