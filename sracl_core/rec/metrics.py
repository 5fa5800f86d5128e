"""Full-ranking evaluation and top-K recommendation.

Every item is ranked (no sampled negatives). The rank of the target is the
number of items with a *strictly* higher score, so ties are resolved in the
target's favour, deterministically and independently of item order; the padding
id 0 is never ranked. Metric names carry the filtering: ``all/NDCG@10`` ranks all
items (the paper's protocol), ``unseen/NDCG@10`` removes the user's seen items
first (``history``, a left- or right-padded matrix of any width; by default the
input window); there a target the user already had counts as a miss, as it would
for a deployed recommender that filters seen items.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from sracl_core.rec.backbones.base import Backbone
from sracl_core.rec.config import EvaluateConfig
from sracl_core.rec.data import EvalSplit


def metric_key(name: str, exclude_history: bool) -> str:
    """``"NDCG@10"`` -> ``"all/NDCG@10"`` or ``"unseen/NDCG@10"``."""
    return f"{'unseen' if exclude_history else 'all'}/{name}"


def _item_scores(model: Backbone, sequences: torch.Tensor, exclude_history: bool,
                 history: torch.Tensor | None = None) -> torch.Tensor:
    """[B, n_items + 1] scores indexed by item id; column 0 (padding) and, optionally, seen
    items are -inf. Seen items are ``history`` (the whole history, padded with 0, any
    width) when given, else the input window itself, which is shorter for users with more
    than ``max_len`` items."""
    scores = model.scores(sequences).float()
    scores = torch.cat([scores.new_full((scores.shape[0], 1), float("-inf")), scores], dim=1)
    if exclude_history:
        seen = sequences if history is None else history.to(scores.device)
        scores.scatter_(1, seen, float("-inf"))
    return scores


def target_ranks(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """0-based rank of each target: how many items score strictly higher; a target scored
    -inf (filtered out) gets rank n_items, a miss at every cut-off."""
    target_scores = scores.gather(1, targets[:, None])
    ranks = (scores > target_scores).sum(dim=1)
    return torch.where(target_scores[:, 0] == float("-inf"), scores.shape[1] - 1, ranks)


def metrics_from_ranks(ranks: torch.Tensor, ks: Sequence[int] = (5, 10, 20),
                       mrr_ks: Sequence[int] = (10, 20)) -> dict[str, float]:
    """HR@k, NDCG@k (one relevant item: 1/log2(rank + 2)) and MRR@k, averaged over users."""
    ranks = ranks.double()
    out: dict[str, float] = {}
    for k in ks:
        hit = ranks < k
        out[f"HR@{k}"] = hit.double().mean().item()
        out[f"NDCG@{k}"] = torch.where(hit, 1.0 / torch.log2(ranks + 2.0), 0.0).mean().item()
    for k in mrr_ks:
        out[f"MRR@{k}"] = torch.where(ranks < k, 1.0 / (ranks + 1.0), 0.0).mean().item()
    return out


@torch.no_grad()
def evaluate(model: Backbone, inputs: torch.Tensor, targets: torch.Tensor,
             ks: Sequence[int] = (5, 10, 20), mrr_ks: Sequence[int] = (10, 20),
             exclude_history: bool = False, batch_size: int = 2048,
             history: torch.Tensor | None = None) -> dict[str, float]:
    """Full-ranking metrics of ``model`` on left-padded ``inputs`` with one target item each."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    ranks = []
    try:
        for start in range(0, inputs.shape[0], batch_size):
            seqs = inputs[start:start + batch_size].to(device)
            seen = None if history is None else history[start:start + batch_size]
            scores = _item_scores(model, seqs, exclude_history, seen)
            ranks.append(target_ranks(scores, targets[start:start + batch_size].to(device)).cpu())
    finally:
        model.train(was_training)
    metrics = metrics_from_ranks(torch.cat(ranks), ks, mrr_ks)
    return {metric_key(name, exclude_history): value for name, value in metrics.items()}


def evaluate_split(model: Backbone, split: EvalSplit, config: EvaluateConfig,
                   history: torch.Tensor | None = None) -> dict[str, float]:
    """The evaluate stage: every metric, once per filtering setting in the config."""
    metrics: dict[str, float] = {}
    for exclude in config.exclude_history:
        metrics.update(evaluate(model, split.inputs, split.targets, config.ks, config.mrr_ks,
                                exclude_history=exclude, batch_size=config.batch_size,
                                history=history))
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
            order = torch.sort(scores[:, 1:], dim=1, descending=True, stable=True).indices
            lists.append(order[:, :top_k].cpu() + 1)
    finally:
        model.train(was_training)
    return torch.cat(lists)
