"""The grid's summary run in a real (SQLite) MLflow store: means, tables, chart, description."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import polars as pl
from mlflow import MlflowClient

from sracl_core.config import load_config
from sracl_core.experiment.results import write_results
from sracl_core.experiment.tracking import TAG_EXPERIMENT, log_summary, summary_chart
from sracl_core.tracking.run import tracking_uri

SUMMARY = pl.DataFrame({"variant": ["sasrec", "sracl", "sasrec", "sracl"],
                        "metric": ["all/HR@10", "all/HR@10", "all/NDCG@10", "all/NDCG@10"],
                        "mean": [0.085, 0.090, 0.043, 0.046],
                        "std": [0.001, 0.002, 0.0004, 0.0005]})


def test_the_chart_has_a_panel_per_metric_and_a_bar_per_variant() -> None:
    figure = summary_chart(SUMMARY, ["all/HR@10", "all/NDCG@10"])
    assert [axis.get_title() for axis in figure.axes] == ["all/HR@10", "all/NDCG@10"]
    assert [bar.get_height() for bar in figure.axes[0].patches] == [0.085, 0.090]


def test_the_summary_run_holds_means_tables_chart_and_the_table_as_its_note(
        tiny_config: Path, tmp_path: Path) -> None:
    config = load_config(tiny_config, [f"cache_root={tmp_path}", "tracking.experiment=grid-x"])
    paths = write_results(tmp_path / "grid-x", SUMMARY, SUMMARY, "| sracl | .090 |")
    grid = {"file": "/grids/x.yaml", "set": ["train.lr=0.003"], "name": "grid-x",
            "variants": {"sasrec": [], "sracl": []}, "seeds": [1, 2],
            "metrics": ["all/HR@10", "all/NDCG@10"]}
    url = log_summary(config, grid, SUMMARY, paths, "| sracl | .090 |")
    client = MlflowClient(tracking_uri(config))
    (run,) = client.search_runs([client.get_experiment_by_name("grid-x").experiment_id])
    assert run.info.run_id in url and run.info.status == "FINISHED"
    assert run.data.tags[TAG_EXPERIMENT] == "grid-x"
    assert {key: run.data.tags[key] for key in ("sracl.grid_file", "sracl.variants",
                                               "sracl.seeds", "sracl.overrides")} == {
        "sracl.grid_file": "/grids/x.yaml", "sracl.variants": "sasrec,sracl",
        "sracl.seeds": "1,2", "sracl.overrides": "train.lr=0.003"}
    assert run.data.tags["sracl.version.torch"] == metadata.version("torch")
    assert run.data.tags["mlflow.note.content"] == "# grid-x\n\n| sracl | .090 |"
    assert run.data.metrics["sracl/all/HR_10/mean"] == 0.090
    assert run.data.metrics["sasrec/all/NDCG_10/std"] == 0.0004
    logged = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"runs.parquet", "summary.parquet", "summary.md", "summary.png"} <= logged
