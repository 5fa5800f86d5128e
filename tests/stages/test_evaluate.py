"""The evaluate stage: metrics under explicit names, recommendations, what re-runs it."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from sracl_core.stages.graph import select_stages, store_for
from tests.stage_runs import plain_config, run_pipeline


def test_evaluate_reports_both_filtering_modes_under_explicit_names(trained):
    config, outcomes = trained
    metrics = dict(store_for(config).read_table("evaluate", outcomes["evaluate"].fingerprint,
                                                "metrics").iter_rows())
    for prefix in ("all", "unseen"):
        for name in ("HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10", "NDCG@20", "MRR@10",
                     "MRR@20"):
            assert 0.0 <= metrics[f"{prefix}/{name}"] <= 1.0
    assert metrics["all/HR@5"] <= metrics["all/HR@10"] <= metrics["all/HR@20"]
    assert metrics["all/NDCG@10"] <= metrics["all/HR@10"]
    assert metrics["all/MRR@10"] <= metrics["all/NDCG@10"]


def test_recommendations_never_repeat_the_users_history(trained):
    config, outcomes = trained
    store = store_for(config)
    recommendations = store.read_table("evaluate", outcomes["evaluate"].fingerprint,
                                       "recommendations")
    sequences = store.read_table("ingest", outcomes["ingest"].fingerprint, "sequences")
    joined = recommendations.join(sequences, on="user")
    assert joined.height == sequences.height
    for items, train, valid in joined.select("items", "train", "valid").iter_rows():
        assert len(items) == len(set(items)) == config.evaluate.top_k
        assert not set(items) & {*train, valid}


def test_changing_only_evaluate_reruns_only_evaluate(trained):
    config, _ = trained
    assert all(outcome.cached for outcome in run_pipeline(config, select_stages(config)))
    changed = plain_config(config.cache_root, "evaluate.ks=[1,5]")
    rerun = {o.stage: o for o in run_pipeline(changed, select_stages(changed))}
    assert {stage: o.cached for stage, o in rerun.items()} == {
        "ingest": True, "train": True, "evaluate": False}
    metrics = pl.read_parquet(Path(rerun["evaluate"].path) / "metrics.parquet")
    assert metrics.filter(pl.col("metric") == "all/HR@1").height == 1


def test_only_unseen_metrics_are_still_logged(trained, caplog):
    """The log line showed only all/ metrics, so a run reporting unseen/ ones logged none."""
    config, _ = trained
    changed = plain_config(config.cache_root, "evaluate.exclude_history=[true]",
                           "evaluate.ks=[10]", "evaluate.mrr_ks=[]")
    with caplog.at_level("INFO", logger="sracl_core"):
        run_pipeline(changed, select_stages(changed))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("evaluate: ")]
    assert any(re.fullmatch(r"evaluate: unseen/HR@10=\d\.\d{4} unseen/NDCG@10=\d\.\d{4}",
                            line) for line in lines), lines
