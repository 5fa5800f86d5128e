"""Prefect artifacts of a pipeline run: the stage table, the final metrics and the MLflow link.

They make the Prefect UI answer "what did this run do and where is it tracked"
without opening MLflow, and link the two.
"""

from __future__ import annotations

import re
from typing import Any

from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

from sracl_core.config import PipelineConfig
from sracl_core.stages.evaluate import test_metrics
from sracl_core.stages.graph import outputs_of


def artifact_key(dataset: str, what: str) -> str:
    """Prefect keys allow lowercase letters, digits and dashes; one key per dataset keeps the
    latest version of each artifact together in the UI."""
    slug = re.sub(r"[^a-z0-9-]+", "-", dataset.lower()).strip("-")
    return f"sracl-{slug}-{what}"


def evaluated_metrics(config: PipelineConfig, stages: list[str]) -> dict[str, float]:
    """The evaluate stage's test metrics, read from its artifact: what the summary shows when
    MLflow tracking is off (with tracking on, the run's logged metrics are the same values)."""
    return test_metrics(outputs_of(config)) if "evaluate" in stages else {}


def summary_markdown(dataset: str, stages: list[dict[str, Any]],
                     tracking: dict[str, Any] | None, metrics: dict[str, float]) -> str:
    lines = [f"# sracl pipeline: {dataset}", "", "| stage | state | seconds | fingerprint |",
             "|---|---|---:|---|"]
    lines += [f"| {s['stage']} | {s['state']} | {s['seconds']:.1f} | `{s['fingerprint']}` |"
              for s in stages]
    if metrics:
        lines += ["", "## Test metrics", "", "| metric | value |", "|---|---:|"]
        lines += [f"| {name} | {value:.4f} |" for name, value in sorted(metrics.items())]
    if tracking is None:
        return "\n".join([*lines, "", "MLflow tracking is off for this config."])
    lines += ["", "## MLflow", "", f"- run: [{tracking['run_id']}]({tracking['run_url']})",
              f"- tracking URI: `{tracking['tracking_uri']}`",
              f"- open the UI: `{tracking['ui_command']}`"]
    if tracking.get("model_uri"):
        lines.append(f"- model: `{tracking['model_uri']}`")
    return "\n".join(lines)


def publish(dataset: str, stages: list[dict[str, Any]], tracking: dict[str, Any] | None,
            metrics: dict[str, float]) -> None:
    """Attach the summary, the metrics table and the MLflow link to the current flow run."""
    create_markdown_artifact(
        summary_markdown(dataset, stages, tracking, metrics),
        key=artifact_key(dataset, "summary"),
        description="stages (cached/computed), final metrics and the MLflow run")
    if metrics:
        create_table_artifact(
            [{"metric": name, "value": round(value, 6)} for name, value in sorted(metrics.items())],
            key=artifact_key(dataset, "metrics"), description="final test metrics")
    if tracking is None:
        return
    create_link_artifact(tracking["run_url"], link_text=f"MLflow run {tracking['run_id']}",
                         key=artifact_key(dataset, "mlflow-run"),
                         description=f"tracking URI {tracking['tracking_uri']}")
