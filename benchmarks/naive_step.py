"""The straightforward SRA-CL step that ``bench_train.py`` times ours against.

Written the way the public reference does it: per-sample Python batch building
(padding, neighbour look-up, item substitution), a RecBole-style SASRec run at
full width over every position with an additive mask, one forward call per
sequence group, the GAT on repeated anchor vectors and the InfoNCE mask built in
a Python loop.
"""

from __future__ import annotations

import math
import random

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sracl_core.rec.backbones import SASRecConfig
from sracl_core.rec.data import SemanticNeighbours, TrainingData

D_TEXT = 1024


class NaiveSASRec(nn.Module):
    """RecBole-style SASRec: every position of every layer at full width, additive mask."""

    def __init__(self, cfg: SASRecConfig, n_items: int, max_len: int) -> None:
        super().__init__()
        d = cfg.hidden_size
        self.cfg = cfg
        self.item_embedding = nn.Embedding(n_items + 1, d, padding_idx=0)
        self.position_embedding = nn.Embedding(max_len, d)
        self.norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.hidden_dropout)
        self.layers = nn.ModuleList()
        for _ in range(cfg.n_layers):
            self.layers.append(nn.ModuleDict({
                "q": nn.Linear(d, d), "k": nn.Linear(d, d), "v": nn.Linear(d, d),
                "o": nn.Linear(d, d), "ln1": nn.LayerNorm(d, eps=cfg.layer_norm_eps),
                "f1": nn.Linear(d, cfg.inner_size), "f2": nn.Linear(cfg.inner_size, d),
                "ln2": nn.LayerNorm(d, eps=cfg.layer_norm_eps)}))
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                module.weight.data.normal_(0.0, cfg.initializer_range)
            if isinstance(module, nn.Linear):
                module.bias.data.zero_()

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        b, width = seq.shape
        heads = self.cfg.n_heads
        dh = self.cfg.hidden_size // heads
        h = self.item_embedding(seq) + self.position_embedding(torch.arange(width))
        h = self.dropout(self.norm(h))
        mask = (seq > 0).long()[:, None, None, :] * torch.ones(width, width).tril().long()
        mask = (1.0 - mask.float()) * -10000.0
        for layer in self.layers:
            def split(x: torch.Tensor) -> torch.Tensor:
                return x.view(b, width, heads, dh).permute(0, 2, 1, 3)
            q, k, v = split(layer["q"](h)), split(layer["k"](h)), split(layer["v"](h))
            scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + mask
            probs = F.dropout(torch.softmax(scores, -1), self.cfg.attn_dropout, self.training)
            context = (probs @ v).permute(0, 2, 1, 3).reshape(b, width, -1)
            h = layer["ln1"](self.dropout(layer["o"](context)) + h)
            h = layer["ln2"](self.dropout(layer["f2"](F.gelu(layer["f1"](h)))) + h)
        return h[:, -1]


class NaiveSRACL(nn.Module):
    def __init__(self, n_items: int, max_len: int, nb: SemanticNeighbours, full: bool) -> None:
        super().__init__()
        self.encoder = NaiveSASRec(SASRecConfig(), n_items, max_len)
        self.n_items, self.nb, self.full = n_items, nb, full
        self.W = nn.Parameter(torch.empty(D_TEXT, 64))
        self.a = nn.Parameter(torch.empty(128, 1))
        nn.init.xavier_uniform_(self.W, gain=1.414)
        nn.init.xavier_uniform_(self.a, gain=1.414)

    @staticmethod
    def info_nce(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        n = z1.shape[0]
        z = torch.cat([z1, z2])
        sim = z @ z.T
        pos = torch.cat([torch.diag(sim, n), torch.diag(sim, -n)]).view(2 * n, 1)
        mask = torch.ones(2 * n, 2 * n, dtype=torch.bool).fill_diagonal_(False)
        for i in range(n):
            mask[i, n + i] = mask[n + i, i] = False
        logits = torch.cat([pos, sim[mask].view(2 * n, -1)], 1)
        return F.cross_entropy(logits, torch.zeros(2 * n, dtype=torch.long))

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        table = self.encoder.item_embedding.weight[1:self.n_items + 1]
        loss = F.cross_entropy(self.encoder(batch["seq"]) @ table.T, batch["target"] - 1)
        if not self.full:
            return loss
        is_loss = self.info_nce(self.encoder(batch["aug1"]), self.encoder(batch["aug2"]))
        anchor = self.encoder(batch["seq"])
        b, k, width = batch["neighbours"].shape
        encoded = self.encoder(batch["neighbours"].reshape(b * k, width)).view(b, k, -1)
        rows = batch["rows"]
        nrows = self.nb.profile_neighbours[rows]
        e_n = self.nb.profile_embeddings[nrows] @ self.W
        e_u = (self.nb.profile_embeddings[rows][:, None].repeat(1, k, 1)) @ self.W
        att = F.leaky_relu((torch.cat([e_u, e_n], -1) @ self.a).squeeze(-1), 0.2)
        att = F.dropout(torch.softmax(att, 1), 0.5, self.training)
        cs_loss = self.info_nce(anchor, (att[..., None] * encoded).sum(1))
        return loss + 0.1 * cs_loss + 0.1 * is_loss


def naive_batch(data: TrainingData, nb: SemanticNeighbours, rows: list[int],
                item_nb: list[list[int]], prefix_lists: list[list[int]]) -> dict[str, torch.Tensor]:
    """Per-sample Python batch building, as a map-style Dataset + default collate does it."""
    width = data.max_len

    def pad(seq: list[int]) -> list[int]:
        return ([0] * (width - len(seq)) + seq)[-width:]

    def replace(seq: list[int]) -> list[int]:
        return [random.choice(item_nb[t]) if t and random.random() < 0.2 else t for t in seq]

    seqs, augs1, augs2, neighbours = [], [], [], []
    for row in rows:
        padded = pad(prefix_lists[row])
        seqs.append(padded)
        augs1.append(replace(padded))
        augs2.append(replace(padded))
        neighbours.append([pad(prefix_lists[int(r)]) for r in nb.profile_neighbours[row]])
    index = torch.tensor(rows)
    return {"seq": torch.tensor(seqs), "target": data.train_targets[index],
            "aug1": torch.tensor(augs1), "aug2": torch.tensor(augs2),
            "neighbours": torch.tensor(np.array(neighbours)), "rows": index}


