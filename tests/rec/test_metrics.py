"""Full-ranking metrics against hand computations; ties, filtering, recommendation order."""

from __future__ import annotations

import math

import pytest
import torch

from sracl_core.rec.backbones.base import Backbone
from sracl_core.rec.config import EvaluateConfig
from sracl_core.rec.data import EvalSplit
from sracl_core.rec.metrics import (
    evaluate,
    evaluate_split,
    metrics_from_ranks,
    recommend,
    target_ranks,
)


class FixedScores(Backbone):
    """Scores read from a table indexed by the last item of the input sequence."""

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        self.n_items, self.max_len = table.shape[1], 3
        self.item_embedding = torch.nn.Embedding(table.shape[1] + 1, 1)
        self.table = torch.nn.Parameter(table, requires_grad=False)

    def scores(self, sequences: torch.Tensor) -> torch.Tensor:
        return self.table[sequences[:, -1]]


def test_metrics_match_hand_computation() -> None:
    ranks = torch.tensor([0, 3, 12, 25])
    m = metrics_from_ranks(ranks, ks=(5, 20), mrr_ks=(10,))
    assert m["HR@5"] == pytest.approx(2 / 4)
    assert m["HR@20"] == pytest.approx(3 / 4)
    assert m["NDCG@5"] == pytest.approx((1 + 1 / math.log2(5)) / 4)
    assert m["NDCG@20"] == pytest.approx((1 + 1 / math.log2(5) + 1 / math.log2(14)) / 4)
    assert m["MRR@10"] == pytest.approx((1 + 1 / 4) / 4)


def test_ties_count_only_strictly_higher_scores() -> None:
    scores = torch.tensor([[float("-inf"), 1.0, 2.0, 2.0, 2.0, 0.5]])
    assert target_ranks(scores, torch.tensor([3])).item() == 0
    assert target_ranks(scores, torch.tensor([1])).item() == 3
    assert target_ranks(scores, torch.tensor([5])).item() == 4


def test_evaluate_names_the_filter_and_never_ranks_padding() -> None:
    # items 1..4; row i of the table scores the items after last item i
    table = torch.tensor([[0.0, 0.0, 0.0, 0.0],
                          [9.0, 1.0, 5.0, 2.0],    # after item 1: item 1 best, then 3, 4, 2
                          [0.0, 0.0, 0.0, 0.0],
                          [0.0, 0.0, 0.0, 0.0],
                          [0.0, 0.0, 0.0, 0.0]])
    model = FixedScores(table)
    inputs = torch.tensor([[0, 0, 1], [0, 0, 1]])
    targets = torch.tensor([3, 2])
    plain = evaluate(model, inputs, targets, ks=(1, 2), mrr_ks=(4,))
    assert plain["all/HR@1"] == 0.0
    assert plain["all/HR@2"] == pytest.approx(0.5)  # item 3 at rank 1, item 2 at rank 3
    assert plain["all/MRR@4"] == pytest.approx((1 / 2 + 1 / 4) / 2)
    filtered = evaluate(model, inputs, targets, ks=(1, 2), mrr_ks=(4,), exclude_history=True)
    assert set(filtered) == {"unseen/HR@1", "unseen/HR@2", "unseen/NDCG@1", "unseen/NDCG@2",
                             "unseen/MRR@4"}
    assert filtered["unseen/HR@1"] == pytest.approx(0.5)  # item 1 (seen) removed -> 3 first


def test_seen_target_is_a_miss_when_history_is_excluded() -> None:
    model = FixedScores(torch.tensor([[0.0, 0.0], [5.0, 1.0], [0.0, 0.0]]))
    result = evaluate(model, torch.tensor([[0, 0, 1]]), torch.tensor([1]), ks=(2,), mrr_ks=(),
                      exclude_history=True)
    assert result["unseen/HR@2"] == 0.0


def test_recommend_orders_by_score_and_breaks_ties_by_id() -> None:
    table = torch.zeros(5, 4)
    table[2] = torch.tensor([1.0, 3.0, 1.0, 3.0])
    model = FixedScores(table)
    top = recommend(model, torch.tensor([[0, 0, 2]]), top_k=4, exclude_history=False)
    assert top.tolist() == [[2, 4, 1, 3]]
    top = recommend(model, torch.tensor([[0, 4, 2]]), top_k=2, exclude_history=True)
    assert top.tolist() == [[1, 3]]
    assert 0 not in recommend(model, torch.tensor([[0, 0, 2]]), top_k=4,
                              exclude_history=False).tolist()[0]


def test_evaluate_split_reports_each_filter_setting() -> None:
    model = FixedScores(torch.tensor([[0.0, 0.0], [5.0, 1.0], [0.0, 0.0]]))
    split = EvalSplit(torch.tensor([[0, 0, 1]]), torch.tensor([1]), torch.tensor([1]))
    metrics = evaluate_split(model, split, EvaluateConfig(ks=[1], mrr_ks=[1]))
    assert metrics == {"all/HR@1": 1.0, "all/NDCG@1": 1.0, "all/MRR@1": 1.0,
                       "unseen/HR@1": 0.0, "unseen/NDCG@1": 0.0, "unseen/MRR@1": 0.0}


def test_full_history_filters_items_outside_the_input_window() -> None:
    table = torch.zeros(5, 4)
    table[2] = torch.tensor([4.0, 3.0, 2.0, 1.0])
    model = FixedScores(table)
    window, history = torch.tensor([[0, 0, 2]]), torch.tensor([[1, 3, 2, 0, 0]])
    assert recommend(model, window, top_k=2, exclude_history=True).tolist() == [[1, 3]]
    top = recommend(model, window, top_k=1, exclude_history=True, history=history)
    assert top.tolist() == [[4]]
    result = evaluate(model, window, torch.tensor([1]), ks=(3,), mrr_ks=(),
                      exclude_history=True, history=history)
    assert result["unseen/HR@3"] == 0.0
