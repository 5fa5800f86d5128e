"""Full-ranking metrics against hand computations; ties, filtering, recommendation order."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

from sracl_core.config import load_config
from sracl_core.rec import trainer
from sracl_core.rec.backbones.base import Backbone
from sracl_core.rec.config import EvaluateConfig, TrainConfig
from sracl_core.rec.data import EvalSplit, TrainingData
from sracl_core.rec.metrics import (
    MISSED,
    evaluate,
    evaluate_split,
    metrics_from_ranks,
    rank_counts,
    recommend,
)
from sracl_core.stages.graph import stage_fingerprints

RULES = ("expected", "pessimistic", "optimistic")


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


def test_rank_counts_split_strictly_higher_from_tied() -> None:
    scores = torch.tensor([[1.0, 2.0, 2.0, 2.0, 0.5]])  # items 1..5
    assert rank_counts(scores, torch.tensor([3])) == (0, 2)
    assert rank_counts(scores, torch.tensor([1])) == (3, 0)
    assert rank_counts(scores, torch.tensor([5])) == (4, 0)


def test_filtered_or_nan_target_is_a_miss_and_never_ties() -> None:
    scores = torch.tensor([[float("-inf"), float("nan"), float("-inf")]])  # items 1..3
    for target in (1, 2):  # item 1 (filtered) ties with item 3; NaN is beaten by nothing
        higher, tied = rank_counts(scores, torch.tensor([target]))
        assert (higher.item(), tied.item()) == (MISSED, 0)
        for rule in RULES:
            assert metrics_from_ranks(higher, ks=(50,), mrr_ks=(50,), tied=tied,
                                      ties=rule) == {"HR@50": 0.0, "NDCG@50": 0.0, "MRR@50": 0.0}


def test_each_tie_rule_matches_hand_computation() -> None:
    # user A: 1 item above, tied with 2 others (ranks 1, 2 or 3); user B: alone at rank 0
    higher, tied = torch.tensor([1, 0]), torch.tensor([2, 0])
    d = [1 / math.log2(r + 2) for r in range(4)]
    expected = {
        "optimistic": {"HR@2": 1.0, "NDCG@2": (d[1] + 1) / 2, "MRR@4": (1 / 2 + 1) / 2},
        "pessimistic": {"HR@2": 1 / 2, "NDCG@2": 1 / 2, "MRR@4": (1 / 4 + 1) / 2},
        # A is in the top 2 only at rank 1, probability 1/3
        "expected": {"HR@2": (1 / 3 + 1) / 2, "NDCG@2": (d[1] / 3 + 1) / 2,
                     "MRR@4": ((1 / 2 + 1 / 3 + 1 / 4) / 3 + 1) / 2},
    }
    for rule, values in expected.items():
        got = metrics_from_ranks(higher, ks=(2,), mrr_ks=(4,), tied=tied, ties=rule)
        assert got == pytest.approx(values), rule


def test_expected_rule_is_the_mean_over_every_tie_break_order() -> None:
    # brute force: average the optimistic metrics over all orders of the tied block
    higher, tied = torch.tensor([2, 0, 5, 1]), torch.tensor([3, 4, 0, 1])
    brute = {}
    for offset in range(5):  # rank = higher + offset, offset uniform over 0..tied
        ranks = higher + torch.minimum(torch.tensor(offset), tied)
        weights = (offset <= tied).double() / (tied + 1)
        for name, value in _per_user(ranks, ks=(1, 3, 5), mrr_ks=(4,)).items():
            brute[name] = brute.get(name, 0.0) + (weights * value).mean().item()
    got = metrics_from_ranks(higher, ks=(1, 3, 5), mrr_ks=(4,), tied=tied, ties="expected")
    assert got == pytest.approx(brute)


def _per_user(ranks: torch.Tensor, ks: tuple[int, ...],
              mrr_ks: tuple[int, ...]) -> dict[str, torch.Tensor]:
    ranks = ranks.double()
    out = {}
    for k in ks:
        out[f"HR@{k}"] = (ranks < k).double()
        out[f"NDCG@{k}"] = torch.where(ranks < k, 1 / torch.log2(ranks + 2), 0.0)
    for k in mrr_ks:
        out[f"MRR@{k}"] = torch.where(ranks < k, 1 / (ranks + 1), 0.0)
    return out


def constant_model(n_items: int) -> FixedScores:
    return FixedScores(torch.zeros(n_items + 1, n_items))


def test_constant_scores_earn_a_random_rankers_value_not_a_perfect_one() -> None:
    n = 50
    inputs = torch.tensor([[0, 0, 1]] * 4)
    targets = torch.tensor([2, 10, 30, 50])
    got = {rule: evaluate(constant_model(n), inputs, targets, ks=(1, 5, 10), mrr_ks=(10,),
                          ties=rule) for rule in RULES}
    assert got["optimistic"] == {f"all/{m}": 1.0 for m in
                                 ("HR@1", "NDCG@1", "HR@5", "NDCG@5", "HR@10", "NDCG@10",
                                  "MRR@10")}  # the old rule's value
    for k in (1, 5, 10):
        assert got["expected"][f"all/HR@{k}"] == pytest.approx(k / n)
        assert got["expected"][f"all/NDCG@{k}"] == pytest.approx(
            sum(1 / math.log2(r + 2) for r in range(k)) / n)
        assert got["pessimistic"][f"all/HR@{k}"] == 0.0
    assert got["expected"]["all/MRR@10"] == pytest.approx(sum(1 / r for r in range(1, 11)) / n)
    # the padding column is never a tied competitor: 1 in n, not 1 in n + 1
    tiny = evaluate(constant_model(4), torch.tensor([[0, 0, 1]]), torch.tensor([2]),
                    ks=(1,), mrr_ks=())
    assert tiny["all/HR@1"] == pytest.approx(1 / 4)


def test_filtered_items_never_tie_with_the_target() -> None:
    # after item 1: items 1, 2, 3 score 2.0, item 4 scores 1.0; the target is item 2
    table = torch.zeros(6, 5)
    table[1] = torch.tensor([2.0, 2.0, 2.0, 1.0, 2.0])
    model = FixedScores(table)
    window, target = torch.tensor([[0, 0, 1]]), torch.tensor([2])
    history = torch.tensor([[5, 1, 0, 0]])  # item 5 was seen before the window
    runs = {
        "all": evaluate(model, window, target, ks=(1, 2), mrr_ks=(), ties="expected"),
        "window": evaluate(model, window, target, ks=(1, 2), mrr_ks=(), exclude_history=True),
        "history": evaluate(model, window, target, ks=(1, 2), mrr_ks=(), exclude_history=True,
                            history=history),
    }
    assert runs["all"]["all/HR@1"] == pytest.approx(1 / 4)  # tied with 1, 3, 5
    assert runs["window"]["unseen/HR@1"] == pytest.approx(1 / 3)  # 1 removed: 3, 5 left
    assert runs["history"]["unseen/HR@1"] == pytest.approx(1 / 2)  # 1 and 5 removed: 3 left
    assert runs["history"]["unseen/HR@2"] == 1.0
    pessimistic = evaluate(model, window, target, ks=(2,), mrr_ks=(), exclude_history=True,
                           history=history, ties="pessimistic")
    assert pessimistic["unseen/HR@2"] == 1.0  # rank 1: only item 3 counted against it
    constant = evaluate(constant_model(50), torch.tensor([[0, 3, 4]]), torch.tensor([10]),
                        ks=(5,), mrr_ks=(), exclude_history=True)
    assert constant["unseen/HR@5"] == pytest.approx(5 / 48)


def test_rules_agree_without_ties_and_optimistic_keeps_the_old_ranks() -> None:
    g = torch.Generator().manual_seed(0)
    continuous = FixedScores(torch.randn(31, 30, generator=g))
    coarse_table = torch.randint(0, 4, (31, 30), generator=g).float()  # many ties
    inputs = torch.randint(1, 31, (40, 3), generator=g)
    targets = torch.randint(1, 31, (40,), generator=g)
    kwargs: dict[str, Any] = {"ks": (1, 5, 10), "mrr_ks": (10,)}
    untied = [evaluate(continuous, inputs, targets, ties=rule, **kwargs) for rule in RULES]
    assert untied[0] == pytest.approx(untied[1]) and untied[1] == untied[2]
    optimistic = evaluate(FixedScores(coarse_table), inputs, targets, ties="optimistic", **kwargs)
    scores = torch.cat([torch.full((40, 1), float("-inf")), coarse_table[inputs[:, -1]]], dim=1)
    old_ranks = (scores > scores.gather(1, targets[:, None])).sum(dim=1)  # the old rule
    old = {f"all/{name}": value.mean().item()
           for name, value in _per_user(old_ranks, (1, 5, 10), (10,)).items()}
    assert optimistic == old
    safe = evaluate(FixedScores(coarse_table), inputs, targets, ties="expected", **kwargs)
    assert all(safe[name] < old[name] for name in old)


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
    for rule in RULES:  # even at a cut-off beyond the number of items
        result = evaluate(model, torch.tensor([[0, 0, 1]]), torch.tensor([1]), ks=(2, 5),
                          mrr_ks=(5,), exclude_history=True, ties=rule)
        assert result == {"unseen/HR@2": 0.0, "unseen/NDCG@2": 0.0, "unseen/HR@5": 0.0,
                          "unseen/NDCG@5": 0.0, "unseen/MRR@5": 0.0}


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


def test_evaluate_split_uses_the_given_tie_rule() -> None:
    split = EvalSplit(torch.tensor([[0, 0, 1]]), torch.tensor([2]), torch.tensor([1]))
    config = EvaluateConfig(ks=[1], mrr_ks=[], exclude_history=[False])
    assert evaluate_split(constant_model(4), split, config)["all/HR@1"] == pytest.approx(1 / 4)
    assert evaluate_split(constant_model(4), split, config, ties="optimistic")["all/HR@1"] == 1.0


def test_the_tie_rule_defaults_to_expected_and_enters_train_and_evaluate_fingerprints(
        tiny_config: Path) -> None:
    assert TrainConfig().rank_ties == "expected"
    default = stage_fingerprints(load_config(tiny_config))
    for rule in ("pessimistic", "optimistic"):
        other = stage_fingerprints(load_config(tiny_config, [f"train.rank_ties={rule}"]))
        assert other["ingest"] == default["ingest"]
        assert other["train"] != default["train"]
        assert other["evaluate"] != default["evaluate"]


def test_trainer_validates_with_the_configured_rule_and_leaves_test_to_evaluate(
        tiny_data: TrainingData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = trainer.evaluate

    def spy(*args: Any, **kwargs: Any) -> dict[str, float]:
        seen.append(kwargs["ties"])
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "evaluate", spy)
    config = TrainConfig(epochs=1, rank_ties="pessimistic", progress=False, batch_size=64,
                         objective="next_item")
    trainer.train(config, tiny_data, None, seed=0, checkpoint_dir=tmp_path)
    assert seen == ["pessimistic"]  # one validation epoch; the test split is evaluate's
