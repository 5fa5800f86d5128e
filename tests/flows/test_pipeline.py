"""Re-run semantics of the Prefect pipeline, end to end on the embedded sample.

One first run is shared (``first_run``); each test then changes one thing and
checks which stages the flow recomputed, in its result, on disk and in Prefect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from sracl_core.config import load_config
from sracl_core.errors import StageInputMissing
from sracl_core.stages.graph import needed_stages

pytestmark = pytest.mark.slow


def computed(result: dict[str, Any]) -> list[str]:
    return [row["stage"] for row in result["stages"] if not row["cached"]]


def cached(result: dict[str, Any]) -> list[str]:
    return [row["stage"] for row in result["stages"] if row["cached"]]


def task_runs(harness: Any, flow_run_id: str, count: int) -> list[Any]:
    """The flow run's task runs, oldest first, once all ``count`` are recorded as final."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    def read() -> list[Any]:
        with get_client(sync_client=True) as client:
            return client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)])),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC)

    return harness.eventually(read, lambda runs: len(runs) == count and all(
        run.state is not None and run.state.is_final() for run in runs),
        f"{count} final task runs of {flow_run_id}")


def artifacts(harness: Any, flow_run_id: str, count: int) -> dict[str, Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    def read() -> list[Any]:
        with get_client(sync_client=True) as client:
            return client.read_artifacts(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)])))

    found = harness.eventually(read, lambda items: len(items) >= count, f"{count} artifacts")
    return {item.key: item for item in found}


def manifests(cache: Path) -> dict[str, int]:
    """Every complete artifact under the cache and its manifest's modification time."""
    return {str(path.parent.relative_to(cache)): path.stat().st_mtime_ns
            for path in sorted(cache.glob("*/*/*/manifest.json"))}


def test_first_run_computes_every_needed_stage(harness: Any, first_run: dict[str, Any]):
    config = load_config(harness.config_path, harness.overrides())
    assert [row["stage"] for row in first_run["stages"]] == needed_stages(config)
    assert cached(first_run) == []
    for row in first_run["stages"]:
        assert (Path(row["path"]) / "manifest.json").is_file()
    assert first_run["tracking"]["test_metrics"], "evaluate's metrics reach the run summary"
    live = {row["stage"]: list(row["live_epochs"]) for row in first_run["stages"]}
    assert live["train"] == [0, 1], "the flow hands its MLflow run to train for live epochs"
    assert all(epochs == [] for stage, epochs in live.items() if stage != "train")


def test_prefect_shows_each_stage_as_a_computed_task_and_links_mlflow(
        harness: Any, first_run: dict[str, Any]):
    runs = task_runs(harness, first_run["flow_run_id"], len(first_run["stages"]))
    assert [run.name for run in runs] == [f"{row['stage']}-computed"
                                          for row in first_run["stages"]]
    assert all(run.state.name == "Completed" for run in runs)
    found = artifacts(harness, first_run["flow_run_id"], 3)
    tracking = first_run["tracking"]
    summary = found["sracl-beauty-sample-summary"]
    assert summary.type == "markdown" and tracking["run_id"] in summary.data
    assert "| evaluate | computed |" in summary.data
    assert tracking["run_url"] in found["sracl-beauty-sample-mlflow-run"].data
    assert "all/NDCG@10" in str(found["sracl-beauty-sample-metrics"].data)


def test_unchanged_config_reruns_nothing(harness: Any, first_run: dict[str, Any]):
    before = manifests(harness.cache)
    again = harness.run()
    assert computed(again) == []
    assert [r["fingerprint"] for r in again["stages"]] == [
        r["fingerprint"] for r in first_run["stages"]]
    assert manifests(harness.cache) == before, "no artifact was rewritten or added"
    runs = task_runs(harness, again["flow_run_id"], len(again["stages"]))
    assert [run.name for run in runs] == [f"{r['stage']}-cached" for r in again["stages"]]
    assert all(run.state.name == "Cached" and run.state.is_completed() for run in runs)
    assert again["tracking"]["model_uri"] == first_run["tracking"]["model_uri"], (
        "a cached train stage points at its registered model instead of adding a version")


def test_without_tracking_the_test_metrics_come_from_the_evaluate_artifact(
        harness: Any, first_run: dict[str, Any]):
    untracked = harness.run("tracking.enabled=false")
    assert computed(untracked) == [] and untracked["tracking"] is None
    assert untracked["test_metrics"] == first_run["tracking"]["test_metrics"] \
        == first_run["test_metrics"]


def test_changing_train_alpha_reruns_train_and_evaluate_only(harness: Any,
                                                             first_run: dict[str, Any]):
    result = harness.run("train.objective.alpha=0.05")
    assert computed(result) == ["train", "evaluate"]
    assert cached(result) == [r["stage"] for r in first_run["stages"]
                              if r["stage"] not in ("train", "evaluate")]


def test_changing_the_encoder_reruns_embeddings_and_everything_after(
        harness: Any, first_run: dict[str, Any]):
    result = harness.run("embeddings.max_length=64")
    assert cached(result) == ["ingest", "prompts", "profiles"]
    assert computed(result) == ["embeddings", "neighbours", "train", "evaluate"]


def test_single_stage_reuses_upstream_and_force_recomputes_it(harness: Any,
                                                              first_run: dict[str, Any]):
    before = manifests(harness.cache)
    evaluate = next(r for r in first_run["stages"] if r["stage"] == "evaluate")
    forced = harness.run_stage("evaluate", force=True)
    assert computed(forced) == ["evaluate"]
    after = manifests(harness.cache)
    key = str(Path(evaluate["path"]).relative_to(harness.cache))
    assert after[key] > before[key]
    assert {k: v for k, v in after.items() if k != key} == {
        k: v for k, v in before.items() if k != key}
    downstream = harness.run_stage("train", downstream=True)
    assert [r["stage"] for r in downstream["stages"]] == ["train", "evaluate"]
    assert computed(downstream) == []


def test_a_stage_without_its_inputs_fails_and_names_them(harness: Any, tmp_path: Path):
    with pytest.raises(StageInputMissing, match="needs 'ingest'"):
        harness.run_stage("train", cache=tmp_path / "empty")


def test_cli_run_prints_stages_metrics_and_where_to_look(harness: Any,
                                                         first_run: dict[str, Any]):
    from flows.cli import app

    arguments = ["run", "--config", str(harness.config_path)]
    for override in harness.overrides():
        arguments += ["--set", override]
    result = CliRunner().invoke(app, arguments, terminal_width=200)
    assert result.exit_code == 0, result.output
    summary = result.output[result.output.rindex(": stages"):]
    table = summary[:summary.index(" stages: ")]
    for row in first_run["stages"]:
        assert row["fingerprint"] in table
    assert "computed" not in table
    stages = len(first_run["stages"])
    assert f"{stages} stages: {stages} cached, 0 computed" in summary
    metric_rows = [line.split() for line in summary.splitlines() if line.strip().startswith(
        "NDCG@10")]
    assert len(metric_rows) == 1 and len(metric_rows[0]) == 3, "NDCG@10: all and unseen"
    assert "mlflow server --backend-store-uri sqlite:///" in summary
    assert first_run["tracking"]["model_uri"] in summary
