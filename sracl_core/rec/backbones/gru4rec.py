"""GRU4Rec (Hidasi et al. 2016) in its next-item form, as in RecBole.

The GRU never runs over padding (running over it would change the hidden state). On
CPU the sequences are grouped by length and each group runs as one dense batch of
exactly its length; elsewhere (and with ``train.bucketed_encoder: false``) they are
left-aligned and packed, which cuDNN runs in one call. The last hidden state is
projected back to the item-embedding size to score against the shared item table.

Why groups on CPU: the packed GRU's backward pass there fills a zero gradient the size
of the whole packed input for every time step it slices (80 fills of ~40 MB in an
SRA-CL step on Beauty, 55% of the step), which made a GRU4Rec + SRA-CL step 2.5x slower
(``benchmarks/bench_train.py``). Both paths compute the same function with the same
kernels, equal to float rounding: a length group's matrix products run over fewer rows
than a packed time step's and may round differently (seen: 3e-8), and the weight
gradients sum the same terms in another order (``tests/rec/backbones/test_gru4rec.py``);
embedding dropout is drawn over the same tensor, so the random stream does not depend
on the path.
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
    embedding_size: int = Field(64, ge=1, description="item embedding width")
    hidden_size: int = Field(128, ge=1, description="GRU hidden width")
    n_layers: int = Field(1, ge=1, description="stacked GRU layers")
    dropout: float = Field(0.3, ge=0.0, lt=1.0, description="dropout on item embeddings")


@BACKBONES.register("gru4rec", GRU4RecConfig)
class GRU4Rec(Backbone):
    def __init__(self, cfg: GRU4RecConfig, n_items: int, max_len: int, *, n_special: int = 0,
                 bucketed: bool = True, **_: object) -> None:
        super().__init__()
        self.n_items, self.max_len, self.bucketed = n_items, max_len, bucketed
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
        emb = self.emb_dropout(self.item_embedding(sequences.gather(1, columns)))
        lengths = width - starts  # an empty row counts as one padding step
        if self.bucketed and sequences.device.type == "cpu":
            return self.dense(self._last_hidden_by_length(emb, lengths))
        return self.dense(self._last_hidden_packed(emb, lengths))

    def _last_hidden_by_length(self, emb: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """One dense GRU call per distinct length; rows come back in their input order."""
        order = torch.argsort(lengths, stable=True)
        counts = torch.bincount(lengths, minlength=emb.shape[1] + 1).tolist()
        present = [(length, size) for length, size in enumerate(counts) if size]
        groups = emb[order].split([size for _, size in present])  # backward: one cat
        last = torch.cat([self.gru(group[:, :length])[1][-1]
                          for group, (length, _) in zip(groups, present, strict=True)])
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(order.numel(), device=order.device)
        return last[inverse]

    def _last_hidden_packed(self, emb: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        return self.gru(packed)[1][-1]
