"""The closing summary of ``sracl run``: what ran, what it measured, where everything is."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(console: Console, result: dict[str, Any]) -> None:
    stages = Table(title=f"{result['dataset']}: stages")
    for column in ("stage", "state", "seconds", "fingerprint", "artifact"):
        stages.add_column(column, justify="right" if column == "seconds" else "left")
    for row in result["stages"]:
        state = "[green]cached[/]" if row["cached"] else "[cyan]computed[/]"
        stages.add_row(row["stage"], state, f"{row['seconds']:.1f}", row["fingerprint"],
                       row["path"])
    console.print(stages)
    tracking = result.get("tracking")
    if tracking and tracking.get("test_metrics"):
        metrics = Table(title="test metrics")
        metrics.add_column("metric")
        metrics.add_column("value", justify="right")
        for name, value in sorted(tracking["test_metrics"].items()):
            metrics.add_row(name, f"{value:.4f}")
        console.print(metrics)
    console.print(f"artifacts:   {result['cache_root']}/{result['dataset']}/")
    console.print(f"prefect:     flow run {result['flow_run_id']}")
    if tracking:
        console.print(f"mlflow run:  {tracking['run_id']} ({tracking['tracking_uri']})")
        if tracking.get("model_uri"):
            console.print(f"model:       {tracking['model_uri']}")
        console.print(f"mlflow UI:   {tracking['ui_command']}")
        console.print(f"             then {tracking['run_url']}")
