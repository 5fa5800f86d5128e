"""Full-ranking evaluation and top-K recommendation.

Every item is ranked (no sampled negatives); the padding id 0 is never ranked.
Metric names carry the filtering: ``all/NDCG@10`` ranks all items (the paper's
protocol), ``unseen/NDCG@10`` removes the user's seen items first (``history``, a
left- or right-padded matrix of any width; by default the input window); there a
target the user already had counts as a miss, as it would for a deployed
recommender that filters seen items.

Ties. For each target we count ``higher`` (items scoring strictly more) and
``tied`` (other items scoring exactly the same); the padding id has no column and
filtered items are -inf, so they are never either. The tie rule (``train.rank_ties``)
then decides:

- ``expected`` (default): under uniformly random tie-breaking the 0-based rank is
  uniform over ``higher .. higher + tied``, and each metric is its expectation:
  HR@k = P(rank < k), NDCG@k = E[1{rank < k} / log2(rank + 2)], MRR@k = E[1{rank < k}
  / (rank + 1)]. A constant-score model gets HR@k = k / n (n candidate items) like a
  random ranker; a model without ties gets what every rule gives.
- ``pessimistic``: rank = higher + tied (a lower bound on every metric).
- ``optimistic``: rank = higher, the old rule (an upper bound; a constant-score
  model gets HR@k = 1), kept for comparison with code that ranks this way.

Not the fractional rank ``higher + tied / 2``: plugged into HR@k it is a step, not
a probability, and 1/log2 of a mean is not the mean of 1/log2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from sracl_core.rec.backbones.base import Backbone
from sracl_core.rec.config import (
    VALIDATION_KS,
    VALIDATION_MRR_KS,
    EvaluateConfig,
    TieRule,
    metric_key,
)
from sracl_core.rec.data import EvalSplit


def _item_scores(model: Backbone, sequences: torch.Tensor, exclude_history: bool,
                 history: torch.Tensor | None = None) -> torch.Tensor:
    """[B, n_items] scores, column j = item j + 1, so the padding id is never a competitor;
    optionally seen items are -inf. Seen items are ``history`` (the whole history, padded
    with 0, any width) when given, else the input window itself, which is shorter for users
    with more than ``max_len`` items. No padding column is concatenated: that copy of the
    whole matrix cost as much as counting ties does."""
    scores = model.scores(sequences).float()
    if exclude_history:
        seen = sequences if history is None else history.to(scores.device)
        # padding entries write +inf under amin, i.e. nothing; deterministic with duplicates
        drop = torch.where(seen > 0, scores.new_tensor(float("-inf")),
                           scores.new_tensor(float("inf")))
        scores.scatter_reduce_(1, (seen - 1).clamp(min=0), drop, reduce="amin")
    return scores


MISSED = 2**52
"""``higher`` of a target that was filtered out: beyond every cut-off, even k > n_items."""


def rank_counts(scores: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per target item id, ``(higher, tied)``: items scoring strictly more and other items
    scoring the same, from [B, n_items] ``scores`` (column j = item j + 1; filtered items
    -inf, so they are never either). A target scored -inf (filtered out) or NaN gets
    ``(MISSED, 0)``, a miss at every cut-off whatever the tie rule. Counts are int32 sums:
    the int64 default made the two passes over the matrix half again as slow."""
    target_scores = scores.gather(1, targets[:, None] - 1)
    higher = (scores > target_scores).sum(dim=1, dtype=torch.int32)
    tied = (scores == target_scores).sum(dim=1, dtype=torch.int32) - 1
    missed = ~(target_scores[:, 0] > float("-inf"))  # NaN would otherwise rank first
    return (torch.where(missed, MISSED, higher.long()),
            torch.where(missed, 0, tied.long()))


_GAINS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "HR": torch.ones_like,
    "NDCG": lambda rank: 1.0 / torch.log2(rank + 2.0),  # one relevant item: IDCG = 1
    "MRR": lambda rank: 1.0 / (rank + 1.0),
}
"""What a target at 0-based ``rank`` (float64) inside the cut-off earns, per metric."""


def metrics_from_ranks(higher: torch.Tensor, ks: Sequence[int] = VALIDATION_KS,
                       mrr_ks: Sequence[int] = VALIDATION_MRR_KS, tied: torch.Tensor | None = None,
                       ties: TieRule = "expected") -> dict[str, float]:
    """HR@k, NDCG@k and MRR@k, averaged over users.

    ``higher`` and ``tied`` come from :func:`rank_counts` (``tied=None``: no ties, so
    ``higher`` is the rank). Under ``expected`` a target spans ``tied + 1`` equally likely
    ranks from ``higher``; its expected gain at cut-off k is the sum of the gains of the
    span's ranks below k (a difference of prefix sums over ranks 0..k-1) divided by the
    span, so the cost stays O(users) however many items tie.
    """
    higher = higher.long()
    tied = torch.zeros_like(higher) if tied is None else tied.long()
    rank = (higher if ties == "optimistic" else higher + tied).double()
    span = (tied + 1).double()

    def mean_gain(metric: str, k: int) -> float:
        gain = _GAINS[metric]
        if ties != "expected":
            return torch.where(rank < k, gain(rank), 0.0).mean().item()
        ranks = torch.arange(k, dtype=torch.float64)
        prefix = torch.cat([ranks.new_zeros(1), gain(ranks).cumsum(0)])
        # ranks first .. stop - 1 of the target's span are inside the top k
        first, stop = higher.clamp(max=k), (higher + tied + 1).clamp(max=k)
        return ((prefix[stop] - prefix[first]) / span).mean().item()

    out: dict[str, float] = {}
    for k in ks:
        out[f"HR@{k}"] = mean_gain("HR", k)
        out[f"NDCG@{k}"] = mean_gain("NDCG", k)
    for k in mrr_ks:
        out[f"MRR@{k}"] = mean_gain("MRR", k)
    return out


@torch.no_grad()
def evaluate(model: Backbone, inputs: torch.Tensor, targets: torch.Tensor,
             ks: Sequence[int] = VALIDATION_KS, mrr_ks: Sequence[int] = VALIDATION_MRR_KS,
             exclude_history: bool = False, batch_size: int = 2048,
             history: torch.Tensor | None = None,
             ties: TieRule = "expected") -> dict[str, float]:
    """Full-ranking metrics of ``model`` on left-padded ``inputs`` with one target item each,
    ties ranked by ``ties`` (see the module docstring)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    highers, tieds = [], []
    try:
        for start in range(0, inputs.shape[0], batch_size):
            seqs = inputs[start:start + batch_size].to(device)
            seen = None if history is None else history[start:start + batch_size]
            scores = _item_scores(model, seqs, exclude_history, seen)
            higher, tied = rank_counts(scores, targets[start:start + batch_size].to(device))
            highers.append(higher.cpu())
            tieds.append(tied.cpu())
    finally:
        model.train(was_training)
    metrics = metrics_from_ranks(torch.cat(highers), ks, mrr_ks, torch.cat(tieds), ties)
    return {metric_key(name, exclude_history): value for name, value in metrics.items()}


def evaluate_split(model: Backbone, split: EvalSplit, config: EvaluateConfig,
                   history: torch.Tensor | None = None,
                   ties: TieRule = "expected") -> dict[str, float]:
    """The evaluate stage: every metric, once per filtering setting in the config; ``ties``
    is ``train.rank_ties``, the rule the model was early-stopped with."""
    metrics: dict[str, float] = {}
    for exclude in config.exclude_history:
        metrics.update(evaluate(model, split.inputs, split.targets, config.ks, config.mrr_ks,
                                exclude_history=exclude, batch_size=config.batch_size,
                                history=history, ties=ties))
    return metrics


@torch.no_grad()
def recommend(model: Backbone, sequences: torch.Tensor, top_k: int = 20,
              exclude_history: bool = True, batch_size: int = 2048,
              history: torch.Tensor | None = None) -> torch.Tensor:
    """[B, top_k] item ids, best first; ties go to the smaller item id."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    lists = []
    try:
        for start in range(0, sequences.shape[0], batch_size):
            seen = None if history is None else history[start:start + batch_size]
            scores = _item_scores(model, sequences[start:start + batch_size].to(device),
                                  exclude_history, seen)
            # stable descending sort = ties broken by smaller id; topk alone does not promise it
            order = torch.sort(scores, dim=1, descending=True, stable=True).indices
            lists.append(order[:, :top_k].cpu() + 1)
    finally:
        model.train(was_training)
    return torch.cat(lists)
