"""Training objectives: SRA-CL's L_rec + alpha * L_CS + beta * L_IS, and the baselines'.

Read top to bottom: the InfoNCE form shared by every contrastive loss, the
learnable sample synthesizer, then :class:`TrainingObjective`, which turns one batch
of training samples into its loss parts under the configured objective (sracl,
next_item, cl4srec or duorec). Every sequence a batch needs (anchors,
views, neighbour sequences) is encoded in a single backbone call, so the
backbone's length bucketing sees the whole batch at once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sracl_core.rec.augment import cl4srec_view, substitute
from sracl_core.rec.backbones.base import Backbone
from sracl_core.rec.config import ObjectiveConfig, SRACLObjectiveConfig
from sracl_core.rec.data import SemanticNeighbours
from sracl_core.rec.distributed import Shard
from sracl_core.rec.full_softmax import full_softmax_cross_entropy


def rec_loss(sequence_vectors: torch.Tensor, targets: torch.Tensor,
             item_table: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over all items; ``item_table`` row j is item j + 1."""
    return full_softmax_cross_entropy(sequence_vectors, item_table, targets - 1)


def info_nce(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric 2N InfoNCE with dot-product similarity (SimCLR form, as in the reference).

    Each of the 2N vectors has its pair as the positive and the other 2N - 2 as
    negatives; the loss is the mean cross-entropy over all 2N rows.
    """
    n = z1.shape[0]
    z = torch.cat([z1, z2])
    sim = (z @ z.T) / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    labels = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(sim, labels)


class SampleSynthesizer(nn.Module):
    """GAT-style weights over an anchor's k neighbours from frozen semantic embeddings.

    weight_j = softmax_j(LeakyReLU_0.2(a^T [W e_u || W e_j])) with W: d_text x d,
    a: 2d (Xavier, gain 1.414), dropout on the weights in training. Since
    a^T [W e_u || W e_j] = e_u . (W a_1) + e_j . (W a_2), the d_text x d products
    for all 11 vectors per anchor collapse into two d_text-vectors: same function
    and gradients, a fraction of the work.
    """

    def __init__(self, d_text: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.empty(d_text, hidden))
        self.a = nn.Parameter(torch.empty(2 * hidden, 1))
        nn.init.xavier_uniform_(self.W, gain=1.414)
        nn.init.xavier_uniform_(self.a, gain=1.414)
        self.dropout = dropout

    def forward(self, anchor: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
        """anchor [B, d_text], neighbours [B, k, d_text] -> weights [B, k]."""
        hidden = self.W.shape[1]
        to_anchor = self.W @ self.a[:hidden]     # [d_text, 1]
        to_neighbour = self.W @ self.a[hidden:]  # [d_text, 1]
        logits = anchor @ to_anchor + (neighbours @ to_neighbour).squeeze(-1)
        weights = torch.softmax(F.leaky_relu(logits, 0.2), dim=1)
        return F.dropout(weights, self.dropout, training=self.training)


class SameTargetSampler(nn.Module):
    """DuoRec's supervised positive: another training sequence with the same target item.

    Drawn uniformly among the other samples sharing the target (the sample itself
    when it is the only one). The tables are non-persistent buffers: they follow
    ``.to(device)`` but stay out of checkpoints.
    """

    def __init__(self, prefixes: torch.Tensor, targets: torch.Tensor) -> None:
        super().__init__()
        order = torch.argsort(targets, stable=True)
        counts = torch.bincount(targets)
        position = torch.empty_like(order)
        position[order] = torch.arange(order.numel())
        for name, value in {"prefixes": prefixes, "targets": targets, "order": order,
                            "counts": counts, "starts": counts.cumsum(0) - counts,
                            "position": position}.items():
            self.register_buffer(name, value, persistent=False)

    def forward(self, samples: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """[B] sample indices -> [B, L] partner sequences."""
        target = self.targets[samples]
        start, count = self.starts[target], self.counts[target]
        others = (count - 1).clamp(min=1)
        draw = torch.rand(samples.shape, generator=generator, device=samples.device)
        offset = (draw * others).long().clamp(max=others - 1)
        offset = offset + ((offset >= self.position[samples] - start) & (count > 1)).long()
        return self.prefixes[self.order[start + offset]]


class TrainingObjective(nn.Module):
    """A backbone plus everything training adds to it; ``forward`` returns the loss parts.

    Loss parts are named ``rec``, ``cs``, ``is`` (SRA-CL), ``duorec``, ``cl4srec`` (those
    the objective has) and ``total``. The neighbour tables are plain attributes, not buffers: they
    are inputs, and stay out of checkpoints.
    """

    def __init__(self, backbone: Backbone, cfg: ObjectiveConfig,
                 neighbours: SemanticNeighbours | None, mask_token: int | None = None,
                 same_target: SameTargetSampler | None = None) -> None:
        super().__init__()
        if cfg.needs_neighbours and neighbours is None:
            raise ValueError("L_CS / L_IS need neighbours (objective next_item for none)")
        if cfg.name == "cl4srec" and mask_token is None:
            raise ValueError("CL4SRec needs a mask token in the item table")
        if cfg.name == "duorec" and same_target is None:
            raise ValueError("DuoRec needs the training samples (same_target)")
        self.same_target = same_target
        self.backbone = backbone
        self.cfg = cfg
        self.sracl = cfg if isinstance(cfg, SRACLObjectiveConfig) else None
        self.use_cs = self.sracl is not None and self.sracl.use_cs
        self.use_is = self.sracl is not None and self.sracl.use_is
        self.neighbours = neighbours
        self.mask_token = mask_token
        self.synthesizer = None
        if self.use_cs and self.sracl.synthesizer == "learnable":
            hidden = backbone.item_embedding.embedding_dim
            self.synthesizer = SampleSynthesizer(neighbours.profile_embeddings.shape[1], hidden,
                                                 self.sracl.synthesizer_dropout)

    def forward(self, sequences: torch.Tensor, targets: torch.Tensor, samples: torch.Tensor,
                generator: torch.Generator, shard: Shard | None = None) -> dict[str, torch.Tensor]:
        """Loss parts for training samples ``samples`` (their sequences [B, L], targets [B]).

        With ``shard`` (data-parallel training, :mod:`sracl_core.rec.distributed`) the
        views and draws are still made for the whole global batch, so this rank's rows
        get the ones a single process would give them; only its rows are encoded, ``rec``
        is the mean over them, and the InfoNCE parts are over the gathered global batch.
        """
        cfg, sracl, nb, b = self.cfg, self.sracl, self.neighbours, sequences.shape[0]
        chunks = {"anchor": sequences}
        if self.use_cs and not sracl.share_anchor_encoding:
            chunks["cs_anchor"] = sequences  # a second dropout sample, as in the reference
        if self.use_is:
            chunks["is_1"] = substitute(sequences, nb.item_neighbours, sracl.substitution_prob,
                                        generator)
            chunks["is_2"] = substitute(sequences, nb.item_neighbours, sracl.substitution_prob,
                                        generator)
        if cfg.name == "duorec":  # a second dropout sample vs a same-target sequence
            chunks["duo_aug"] = sequences
            chunks["duo_sem"] = self.same_target(samples, generator)
        if cfg.name == "cl4srec":
            for name in ("cl_1", "cl_2"):
                chunks[name] = cl4srec_view(
                    sequences, crop_ratio=cfg.crop_ratio, mask_ratio=cfg.mask_ratio,
                    reorder_ratio=cfg.reorder_ratio, mask_token=self.mask_token,
                    generator=generator)
        neighbour_rows = weights = None
        if self.use_cs:
            rows = nb.sample_profile[samples]
            neighbour_rows = nb.profile_neighbours[rows]  # [B, k]
            if sracl.synthesizer == "random":  # non-learnable ablation: one neighbour at random
                pick = torch.randint(0, neighbour_rows.shape[1], (b, 1), generator=generator,
                                     device=sequences.device)
                neighbour_rows = neighbour_rows.gather(1, pick)
            elif sracl.synthesizer == "mean":  # non-learnable ablation: the neighbours' mean
                weights = torch.full(neighbour_rows.shape, 1.0 / neighbour_rows.shape[1],
                                     device=sequences.device)
            else:
                weights = self.synthesizer(nb.profile_embeddings[rows],
                                           nb.profile_embeddings[neighbour_rows])
        contrast = info_nce
        if shard is not None:
            chunks = {name: shard.take(chunk) for name, chunk in chunks.items()}
            targets = shard.take(targets)
            b = targets.shape[0]
            neighbour_rows = None if neighbour_rows is None else shard.take(neighbour_rows)
            weights = None if weights is None else shard.take(weights)

            def contrast(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
                return info_nce(shard.gather(z1), shard.gather(z2), temperature)
        vectors = self._encode(chunks, neighbour_rows)

        parts = {"rec": rec_loss(vectors["anchor"], targets, self.backbone.item_table())}
        total = parts["rec"]
        if self.use_cs:
            encoded = vectors["neighbours"].view(b, neighbour_rows.shape[1], -1)
            positive = encoded[:, 0] if weights is None else (weights[..., None] * encoded).sum(1)
            anchor = vectors["anchor" if sracl.share_anchor_encoding else "cs_anchor"]
            parts["cs"] = contrast(anchor, positive, sracl.temperature)
            total = total + sracl.alpha * parts["cs"]
        if self.use_is:
            parts["is"] = contrast(vectors["is_1"], vectors["is_2"], sracl.temperature)
            total = total + sracl.beta * parts["is"]
        if cfg.name == "duorec":
            parts["duorec"] = contrast(vectors["duo_aug"], vectors["duo_sem"], cfg.temperature)
            total = total + cfg.weight * parts["duorec"]
        if cfg.name == "cl4srec":
            parts["cl4srec"] = contrast(vectors["cl_1"], vectors["cl_2"], cfg.temperature)
            total = total + cfg.weight * parts["cl4srec"]
        parts["total"] = total
        return parts

    def _encode(self, chunks: dict[str, torch.Tensor],
                neighbour_rows: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Encode all chunks (and the neighbour sequences) in as few backbone calls as possible."""
        sracl = self.sracl
        names, tensors = list(chunks), list(chunks.values())
        inverse = None
        if neighbour_rows is not None:
            flat_rows = neighbour_rows.reshape(-1)
            if sracl.dedup_neighbours:
                flat_rows, inverse = torch.unique(flat_rows, return_inverse=True)
            neighbour_seqs = self.neighbours.profile_sequences[flat_rows]
            if sracl.neighbour_gradients:
                names.append("neighbours")
                tensors.append(neighbour_seqs)
        encoded = self.backbone.encode(torch.cat(tensors))
        out = dict(zip(names, encoded.split([t.shape[0] for t in tensors]), strict=True))
        if neighbour_rows is not None and not sracl.neighbour_gradients:
            with torch.no_grad():
                out["neighbours"] = self.backbone.encode(neighbour_seqs)
        if inverse is not None:
            out["neighbours"] = out["neighbours"][inverse]
        return out
