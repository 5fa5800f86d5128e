"""The closing summary of ``sracl run``: what ran, what it measured, where everything is."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table


def print_summary(console: Console, result: dict[str, Any]) -> None:
    """Stages with their state and fingerprint, then the test metrics and output paths."""
    stages = Table(title=f"{result['dataset']}: stages", box=box.SIMPLE_HEAD, show_edge=False)
    for column in ("stage", "state", "seconds", "fingerprint"):
        stages.add_column(column, justify="right" if column == "seconds" else "left")
    for row in result["stages"]:
        state = "[green]cached[/]" if row["cached"] else "[cyan]computed[/]"
        stages.add_row(row["stage"], state, f"{row['seconds']:.1f}", row["fingerprint"])
    console.print(stages)
    cached = sum(1 for row in result["stages"] if row["cached"])
    console.print(f"{len(result['stages'])} stages: {cached} cached, "
                  f"{len(result['stages']) - cached} computed", highlight=False)
    if result.get("test_metrics"):
        console.print(metrics_table(result["test_metrics"]))
    tracking = result.get("tracking")
    lines = [f"artifacts:   {result['cache_root']}/{result['dataset']}/<stage>/<fingerprint>/",
             f"prefect:     flow run {result['flow_run_id']}"]
    if tracking:
        lines.append(f"mlflow run:  {tracking['run_id']} in {tracking['tracking_uri']}")
        if tracking.get("model_uri"):
            lines.append(f"model:       {tracking['model_uri']}")
        lines += [f"mlflow UI:   {tracking['ui_command']}",
                  f"             then open {tracking['run_url']}"]
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False)


def metrics_table(metrics: dict[str, float]) -> Table:
    """One row per metric, one column per ranking mode (``all/HR@10`` -> row HR@10, column
    all), in the order the metrics come."""
    modes = list(dict.fromkeys(name.split("/", 1)[0] for name in metrics if "/" in name))
    names = list(dict.fromkeys(name.split("/", 1)[-1] for name in metrics))
    table = Table(title="test metrics", box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("metric")
    for mode in modes or ["value"]:
        table.add_column(mode, justify="right")
    for name in names:
        cells = [metrics.get(f"{mode}/{name}") if modes else metrics.get(name)
                 for mode in modes or ["value"]]
        table.add_row(name, *("" if value is None else f"{value:.4f}" for value in cells))
    return table
