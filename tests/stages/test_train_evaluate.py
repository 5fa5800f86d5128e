from pathlib import Path

import polars as pl
import pytest

from sracl_core.config import PipelineConfig, load_config
from sracl_core.stages.graph import select_stages, store_for
from sracl_core.stages.runner import StageOutcome
from tests.stage_runs import run_pipeline

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLAIN = ["train.objective=next_item", "train.epochs=2",
         "train.progress=false", "train.backbone.hidden_size=16", "train.backbone.inner_size=32"]


def plain_config(cache: Path, *extra: str) -> PipelineConfig:
    return load_config(PROJECT_ROOT / "configs" / "default.yaml",
                       [*PLAIN, f"cache_root={cache}", *extra])


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[PipelineConfig, dict[str, StageOutcome]]:
    config = plain_config(tmp_path_factory.mktemp("cache"))
    return config, {o.stage: o for o in run_pipeline(config, select_stages(config))}


def test_plain_backbone_needs_no_llm_stages(trained):
    _, outcomes = trained
    assert list(outcomes) == ["ingest", "train", "evaluate"]


def test_train_writes_the_epoch_log_and_a_loadable_model(trained):
    config, outcomes = trained
    epochs = store_for(config).read_table("train", outcomes["train"].fingerprint, "epochs")
    assert epochs["epoch"].to_list() == [0, 1]
    assert {"loss/rec", "loss/total", "valid/all/NDCG@10"} <= set(epochs.columns)
    assert (Path(outcomes["train"].path) / "model" / "model.safetensors").is_file()
    checkpoints = config.cache_root / config.dataset / "train" / ".checkpoints"
    runs = list((checkpoints / outcomes["train"].fingerprint).iterdir())
    assert [run.name[:4] for run in runs] == ["run-"], "each run checkpoints in its own folder"
    assert (runs[0] / "best" / "model.safetensors").is_file()


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


def test_serving_returns_titled_lists_without_history(trained):
    from sracl_core.errors import SraclError
    from sracl_core.serving import recommend_for_users

    config, outcomes = trained
    rows = recommend_for_users(config, [3, 1], top_k=4)
    assert rows["user"].to_list() == [3] * 4 + [1] * 4
    assert rows["rank"].to_list() == [1, 2, 3, 4] * 2
    assert rows["title"].null_count() == 0
    sequences = store_for(config).read_table("ingest", outcomes["ingest"].fingerprint,
                                             "sequences")
    history = sequences.filter(pl.col("user") == 3).select(
        pl.concat_list("train", "valid", "test"))["train"][0].to_list()
    assert not set(rows.filter(pl.col("user") == 3)["item"].to_list()) & set(history)
    with pytest.raises(SraclError, match=r"unknown internal user ids \[9999\]"):
        recommend_for_users(config, [1, 9999], top_k=2)


def test_changing_only_evaluate_reruns_only_evaluate(trained):
    config, _ = trained
    assert all(outcome.cached for outcome in run_pipeline(config, select_stages(config)))
    changed = plain_config(config.cache_root, "evaluate.ks=[1,5]")
    rerun = {o.stage: o for o in run_pipeline(changed, select_stages(changed))}
    assert {stage: o.cached for stage, o in rerun.items()} == {
        "ingest": True, "train": True, "evaluate": False}
    metrics = pl.read_parquet(Path(rerun["evaluate"].path) / "metrics.parquet")
    assert metrics.filter(pl.col("metric") == "all/HR@1").height == 1
