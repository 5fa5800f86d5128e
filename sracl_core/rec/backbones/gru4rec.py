"""GRU4Rec (Hidasi et al. 2016) in its next-item form, as in RecBole.

Left-padded sequences are left-aligned and packed, so the GRU never runs over
padding (running over it would change the hidden state); the last hidden state is
projected back to the item-embedding size to score against the shared item table.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from sracl_core.rec.backbones.base import BACKBONES, Backbone, BackboneConfig
from sracl_core.rec.backbones.lengths import sequence_starts


class GRU4RecConfig(BackboneConfig):
    """GRU encoder; its last hidden state is projected back to the item-embedding size."""

    name: Literal["gru4rec"] = "gru4rec"
    embedding_size: int = Field(64, ge=1)
    hidden_size: int = Field(128, ge=1)
    n_layers: int = Field(1, ge=1)
    dropout: float = Field(0.3, ge=0.0, lt=1.0)


@BACKBONES.register("gru4rec", GRU4RecConfig)
class GRU4Rec(Backbone):
    def __init__(self, cfg: GRU4RecConfig, n_items: int, max_len: int, *, n_special: int = 0,
                 **_: object) -> None:
        super().__init__()
        self.n_items, self.max_len = n_items, max_len
        self.item_embedding = nn.Embedding(n_items + 1 + n_special, cfg.embedding_size,
                                           padding_idx=0)
        self.emb_dropout = nn.Dropout(cfg.dropout)
        self.gru = nn.GRU(cfg.embedding_size, cfg.hidden_size, cfg.n_layers, bias=False,
                          batch_first=True)
        self.dense = nn.Linear(cfg.hidden_size, cfg.embedding_size)
        nn.init.xavier_normal_(self.item_embedding.weight)
        for name, weight in self.gru.named_parameters():
            if name.startswith("weight"):
                nn.init.xavier_uniform_(weight)

    def encode(self, sequences: torch.Tensor) -> torch.Tensor:
        width = sequences.shape[1]
        starts = sequence_starts(sequences)
        columns = (torch.arange(width, device=sequences.device) + starts[:, None]).clamp(
            max=width - 1)
        aligned = sequences.gather(1, columns)
        emb = self.emb_dropout(self.item_embedding(aligned))
        packed = pack_padded_sequence(emb, (width - starts).cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, last_hidden = self.gru(packed)
        return self.dense(last_hidden[-1])
