"""`sracl experiment` for real: Prefect subflows, the artifact cache, MLflow, on tiny data."""

from __future__ import annotations

import math
import os
from pathlib import Path

import polars as pl
import pytest
from mlflow import MlflowClient
from polars.testing import assert_frame_equal

from sracl_core.config import load_config
from sracl_core.errors import ConfigError
from sracl_core.tracking.run import tracking_uri

GRID = """
name: tiny-grid
baseline: sasrec
seeds: [1, 2]
metrics: [all/HR@10, all/NDCG@10]
overrides: [train.objective=next_item, train.epochs=1,
            train.progress=false, train.backbone.hidden_size=8, train.backbone.inner_size=8]
variants:
  sasrec: []
  gru4rec: [train.backbone=gru4rec, train.backbone.embedding_size=8,
            train.backbone.hidden_size=8]
"""


@pytest.fixture
def grid(tiny_config: Path, tmp_path: Path) -> tuple[Path, Path]:
    path = tmp_path / "grid.yaml"
    path.write_text(GRID)
    return tiny_config, path


def test_a_grid_runs_every_variant_and_seed_then_reports_them_here_and_elsewhere(
        grid, tmp_path: Path):
    from typer.testing import CliRunner

    from flows.cli import app
    from flows.experiment import experiment_flow

    config_path, grid_path = grid
    result = experiment_flow(str(config_path), str(grid_path), jobs=2, threads=1)
    summary = pl.DataFrame(result["summary"])
    assert summary.height == 4 and set(summary["variant"]) == {"sasrec", "gru4rec"}
    assert (summary["seeds"] == 2).all()
    gru = summary.filter((pl.col("variant") == "gru4rec") & (pl.col("metric") == "all/HR@10"))
    assert not math.isnan(gru["gain_pct"][0])
    folder = Path(result["folder"])
    runs = pl.read_parquet(folder / "runs.parquet")
    per_run = runs.filter(pl.col("metric") == "all/HR@10")
    assert per_run.height == 4
    assert per_run["train_fingerprint"].n_unique() == 4, "every variant and seed trains anew"
    sasrec_row = next(line for line in (folder / "summary.md").read_text().splitlines()
                      if line.startswith("| sasrec |"))
    sasrec_minutes = per_run.filter(pl.col("variant") == "sasrec")["train_seconds"].mean() / 60
    assert sasrec_row.endswith(f"| {sasrec_minutes:.0f} |"), "the training-time column"
    hr10, ndcg10 = (per_run.filter((pl.col("variant") == "sasrec") & (pl.col("seed") == 1))
                    ["value"][0], runs.filter((pl.col("metric") == "all/NDCG@10")
                                              & (pl.col("variant") == "sasrec")
                                              & (pl.col("seed") == 1))["value"][0])
    summary_md = (folder / "summary.md").read_text()
    assert "| variant | seed 1 | seed 2 |" in summary_md, "the per-seed table"
    assert f"| sasrec | {hr10:.4f}".replace(" 0.", " .") + f" / {ndcg10:.4f}".replace(
        " 0.", " .") in summary_md

    config = load_config(config_path, ["tracking.experiment=tiny-grid"])
    client = MlflowClient(tracking_uri(config))
    experiment = client.get_experiment_by_name("tiny-grid")
    tracked = client.search_runs([experiment.experiment_id])
    pipeline_runs = [r for r in tracked if r.data.tags.get("sracl.variant")
                     and r.data.tags.get("mlflow.parentRunId") is None]
    assert sorted((r.data.tags["sracl.variant"], r.data.tags["sracl.seed"])
                  for r in pipeline_runs if r.data.tags.get("sracl.selected", "").endswith(
                      "evaluate")) == [("gru4rec", "1"), ("gru4rec", "2"), ("sasrec", "1"),
                                       ("sasrec", "2")]
    summaries = [r for r in tracked if r.data.tags.get("sracl.run_kind") == "experiment-summary"]
    assert len(summaries) == 1
    artifacts = {a.path for a in client.list_artifacts(summaries[0].info.run_id)}
    assert {"summary.md", "summary.parquet", "runs.parquet", "summary.png",
            "grid.json"} <= artifacts

    again = experiment_flow(str(config_path), str(grid_path))
    # a re-run reads the same finished runs (NaN p-values compare equal here)
    assert_frame_equal(pl.DataFrame(again["summary"]), summary)

    # continued on another machine: the finished runs' evaluate artifacts are enough (they
    # record how each model was trained); nothing upstream is copied or recomputed, and no
    # run trains
    bundle, elsewhere = tmp_path / "bundle", tmp_path / "elsewhere"
    for command in (["export", str(bundle), "--grid", str(grid_path), "--stage", "evaluate"],
                    ["import", str(bundle), "--set", f"cache_root={elsewhere}"]):
        transferred = CliRunner().invoke(app, ["cache", *command, "-c", str(config_path)])
        assert transferred.exit_code == 0, transferred.output
    there = experiment_flow(str(config_path), str(grid_path),  # jobs=2: no shared-stage pass
                            overrides=[f"cache_root={elsewhere}"], jobs=2, threads=1)
    assert_frame_equal(pl.DataFrame(there["summary"]), summary)
    assert_frame_equal(pl.read_parquet(Path(there["folder"]) / "runs.parquet"), runs)
    dataset = load_config(config_path).dataset
    assert sorted(path.name for path in (elsewhere / dataset).iterdir()
                  if not path.name.startswith(".")) == [
        "evaluate", "experiments"], "nothing upstream was computed"


def test_a_grid_runs_on_a_local_ray_cluster_through_prefect_ray(grid):
    pytest.importorskip("prefect_ray", reason="the distributed extra")
    from flows.experiment import experiment_flow, ray_task_runner

    config_path, grid_path = grid
    on_ray = experiment_flow.with_options(task_runner=ray_task_runner(None))
    result = on_ray(str(config_path), str(grid_path), jobs=2, threads=1, runner="ray")
    config = load_config(config_path, ["tracking.experiment=tiny-grid"])
    client = MlflowClient(tracking_uri(config))
    experiment = client.get_experiment_by_name("tiny-grid")
    trained = [r for r in client.search_runs([experiment.experiment_id])
               if r.data.tags.get("sracl.selected", "").endswith("evaluate")
               and r.data.tags.get("mlflow.parentRunId") is None]
    assert len(trained) == 4
    workers = {r.data.tags["sracl.worker"] for r in trained}
    assert all(not w.endswith(f":{os.getpid()}") for w in workers), "runs left this process"

    in_threads = experiment_flow(str(config_path), str(grid_path))
    # the same fingerprints: the thread runner finds every Ray-trained run cached
    assert_frame_equal(pl.DataFrame(in_threads["summary"]), pl.DataFrame(result["summary"]))


def test_an_unknown_runner_is_named(grid):
    from flows.experiment import experiment_flow

    config_path, grid_path = grid
    with pytest.raises(ConfigError, match="unknown runner 'dask'; runners: local, ray"):
        experiment_flow(str(config_path), str(grid_path), runner="dask")


def _losses(config_path: Path, grid_path: Path, cache_root: Path) -> dict[str, list[float]]:
    """Each run's training loss, epoch by epoch, from its train artifact."""
    from sracl_core.artifacts import ArtifactStore
    from sracl_core.experiment.grid import grid_runs, load_grid
    from sracl_core.stages.graph import stage_fingerprints

    losses = {}
    for run in grid_runs(load_grid(grid_path), [f"cache_root={cache_root}"]):
        config = load_config(config_path, list(run.overrides))
        epochs = ArtifactStore(cache_root, config.dataset).read_table(
            "train", stage_fingerprints(config)["train"], "epochs")
        losses[run.label] = epochs["loss/total"].to_list()
    return losses


def test_two_runs_at_once_give_the_bits_of_each_run_alone(grid, tmp_path: Path):
    """Runs at once each own their random streams (a process each): with threads they shared
    torch's one generator, and a run's losses depended on its neighbour's timing."""
    from flows.experiment import experiment_flow

    config_path, _ = grid
    grid_path = tmp_path / "dropout-grid.yaml"
    grid_path.write_text(
        "name: dropout-grid\nbaseline: a\nseeds: [1]\nmetrics: [all/NDCG@10]\n"
        "overrides: [train.objective=next_item, train.epochs=30, train.patience=30,\n"
        "            train.progress=false, train.num_threads=1, train.backbone.hidden_size=8,\n"
        "            train.backbone.inner_size=8]\n"
        "variants:\n  a: []\n  b: [train.lr=0.002]\n")
    together, alone = tmp_path / "together", tmp_path / "alone"
    experiment_flow(str(config_path), str(grid_path), overrides=[f"cache_root={together}"],
                    jobs=2, threads=1)
    experiment_flow(str(config_path), str(grid_path), overrides=[f"cache_root={alone}"])
    at_once, one_by_one = (_losses(config_path, grid_path, root) for root in (together, alone))
    assert set(at_once) == {"a/seed-1", "b/seed-1"}
    assert all(len(losses) == 30 for losses in at_once.values())
    assert at_once == one_by_one


@pytest.mark.parametrize("error", ["tracking-lost", "other"])
def test_a_run_that_lost_only_its_tracking_does_not_stop_the_grid_fake_pipeline(
        monkeypatch, error: str):
    """The pipeline is a stand-in raising what a real one raises at its end: a run whose
    stages all finished but whose MLflow server went away is done for the grid; any other
    failure still stops it."""
    import flows.experiment as experiment
    from sracl_core.errors import TrackingLost
    from sracl_core.experiment.grid import GridRun

    raised = TrackingLost("mlflow: http://x stopped answering") if error == "tracking-lost" \
        else RuntimeError("a stage failed")

    class Pipeline:
        def with_options(self, **_: object):
            def run(**__: object) -> None:
                raise raised
            return run

    monkeypatch.setattr(experiment, "pipeline_flow", Pipeline())
    run = GridRun("sracl", 1, ("train.seed=1",))
    if error == "other":
        with pytest.raises(RuntimeError, match="a stage failed"):
            experiment._run_one("config.yaml", "g", run)
        return
    import logging

    seen: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: seen.append(record.getMessage())
    logging.getLogger("flows.experiment").addHandler(handler)
    try:
        experiment._run_one("config.yaml", "g", run)
    finally:
        logging.getLogger("flows.experiment").removeHandler(handler)
    assert seen == ["experiment g: sracl/seed-1: mlflow: http://x stopped answering; the grid "
                    "goes on"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_with_keep_going_a_failed_run_is_named_and_the_others_finish(grid, tmp_path: Path,
                                                                     jobs: int):
    """A run whose input turns out malformed (line 2 of its interactions file) fails the
    grid at the end, named with its error, after the run queued behind it has finished;
    with --jobs 2 it fails among the shared stages, which run before the pool."""
    from flows.experiment import experiment_flow
    from sracl_core.errors import GridRunsFailed
    from sracl_core.experiment.results import is_finished
    from sracl_core.stages.graph import outputs_of

    config_path, _ = grid
    malformed = tmp_path / "malformed.txt"
    malformed.write_text("1 1\n1 x\n1 2\n")
    grid_path = tmp_path / "failing-grid.yaml"
    grid_path.write_text(
        "name: failing-grid\nbaseline: good\nseeds: [1]\nmetrics: [all/NDCG@10]\n"
        "overrides: [train.objective=next_item, train.epochs=1, train.progress=false,\n"
        "            train.backbone.hidden_size=8, train.backbone.inner_size=8]\n"
        f"variants:\n  bad: [data.source.interactions={malformed}]\n  good: []\n")
    with pytest.raises(GridRunsFailed, match=r"failing-grid: 1 run\(s\) failed \(bad/seed-1: "
                                             rf".*{malformed.name}:2: expected") as failed:
        experiment_flow(str(config_path), str(grid_path), jobs=jobs, threads=1,
                        keep_going=True)
    assert list(failed.value.failures) == ["bad/seed-1"]
    overrides = ["tracking.experiment=failing-grid", "train.objective=next_item",
                 "train.epochs=1", "train.progress=false", "train.backbone.hidden_size=8",
                 "train.backbone.inner_size=8", "train.seed=1"]
    if jobs > 1:
        overrides.insert(1, "train.num_threads=1")
    assert is_finished(outputs_of(load_config(config_path, overrides)))


def test_a_gpu_this_machine_lacks_fails_the_grid_before_any_stage(grid, tmp_path: Path):
    from flows.experiment import experiment_flow

    config_path, _ = grid
    grid_path = tmp_path / "gpu-grid.yaml"
    grid_path.write_text("name: gpu-grid\nbaseline: a\nseeds: [1]\nmetrics: [all/NDCG@10]\n"
                         "overrides: [train.objective=next_item, train.device=cuda:1000]\n"
                         "variants:\n  a: []\n")
    with pytest.raises(ConfigError, match=r"gpu-grid\.yaml \(a/seed-1\): train\.device: "
                                          r"expected a device this machine has"):
        experiment_flow(str(config_path), str(grid_path))
    cache = load_config(config_path).cache_root
    assert not (cache / "tiny").exists(), "no stage computed"
