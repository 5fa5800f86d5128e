"""The grid's summary in MLflow: one run beside the pipeline runs, with the table and a chart.

The pipeline runs of a grid share one MLflow experiment (the grid's name) and
carry ``sracl.variant`` and ``sracl.seed`` tags; this run holds what compares
them: per-variant means as metrics, the tables as artifacts, the Markdown table
as the run's description, and a bar chart of mean ± std per metric.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from matplotlib.figure import Figure
from mlflow import MlflowClient

from sracl_core.config import PipelineConfig
from sracl_core.tracking.batches import metric_name
from sracl_core.tracking.run import (
    TAG_KIND,
    ensure_experiment,
    run_url,
    tracking_uri,
    version_tags,
)

TAG_EXPERIMENT = "sracl.experiment"


def summary_chart(summary: pl.DataFrame, metrics: list[str]) -> Figure:
    """One panel per metric: a bar per variant at its mean, the whisker one std."""
    figure = Figure(figsize=(4 * len(metrics), 3.6), layout="constrained")
    axes = figure.subplots(1, len(metrics), squeeze=False)[0]
    for axis, metric in zip(axes, metrics, strict=True):
        rows = summary.filter(pl.col("metric") == metric)
        variants = rows["variant"].to_list()
        axis.bar(range(len(variants)), rows["mean"].to_list(), yerr=rows["std"].to_list(),
                 capsize=3, color="#4C72B0")
        axis.set_xticks(range(len(variants)), variants, rotation=45, ha="right", fontsize=8)
        axis.set_title(metric)
        low = min(rows["mean"].to_list() or [0.0])
        axis.set_ylim(bottom=max(0.0, low * 0.8))
    return figure


def log_summary(config: PipelineConfig, grid: dict[str, Any], summary: pl.DataFrame,
                paths: dict[str, Path], markdown: str) -> str:
    """Create the summary run, tagged with what made it (the grid file, its variants, the
    command's ``--set``s and the library versions); returns its URL."""
    client = MlflowClient(tracking_uri(config))
    experiment_id = ensure_experiment(client, config)
    grid_name = grid["name"]
    run = client.create_run(experiment_id, run_name=f"{grid_name}-summary", tags={
        TAG_KIND: "experiment-summary", TAG_EXPERIMENT: grid_name,
        "sracl.grid_file": grid["file"], "sracl.variants": ",".join(grid["variants"]),
        "sracl.seeds": ",".join(map(str, grid["seeds"])),
        **({"sracl.overrides": " ".join(grid["set"])[:5000]} if grid["set"] else {}),
        **version_tags(), "mlflow.note.content": f"# {grid_name}\n\n{markdown}"})
    run_id = run.info.run_id
    for row in summary.iter_rows(named=True):
        key = metric_name(f"{row['variant']}/{row['metric']}")
        client.log_metric(run_id, f"{key}/mean", row["mean"])
        client.log_metric(run_id, f"{key}/std", row["std"])
    for path in paths.values():
        client.log_artifact(run_id, str(path))
    client.log_figure(run_id, summary_chart(summary, grid["metrics"]), "summary.png")
    client.set_terminated(run_id)
    return run_url(config, experiment_id, run_id)
