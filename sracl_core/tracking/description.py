"""The pipeline run's description: what a person reads first on the run page.

MLflow shows the ``mlflow.note.content`` tag as the run's Markdown description,
at the top of the run page. Params and metrics are there too, but scattered
over long lists; the description says in a few lines which data the run saw,
which stages it computed or found cached (and how long each took) and what it
measured on the test split.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from mlflow.utils.mlflow_tags import MLFLOW_RUN_NOTE

__all__ = ["MLFLOW_RUN_NOTE", "describe_run"]

_DATASET_KEYS = (("n_users", "users"), ("n_items", "items"), ("n_interactions", "interactions"))
_HEADLINE = ("NDCG@10", "HR@10")
"""Metrics named in the first lines, the ones the UI shows before "Show more"."""
_NOTE_LIMIT = 5000
"""Tag values are capped (8000 characters in the SQL store); the note stays well below."""


class StageLine(Protocol):
    """What the description needs of a stage's outcome (``stages.runner.StageOutcome``)."""

    stage: str
    seconds: float

    @property
    def state(self) -> str: ...


def describe_run(dataset: str, stats: Mapping[str, Any], stages: Iterable[StageLine],
                 test_metrics: Mapping[str, float], *, model_uri: str | None = None,
                 status: str = "FINISHED") -> str:
    """Markdown: dataset size, the headline test metrics and the stage counts first (the run
    page shows only the first lines until "Show more"), then one table row per stage and
    the test metrics as a table whose rows are metrics and columns are the ranking
    protocols (``all``, ``unseen``)."""
    lines = [_dataset_line(dataset, stats)]
    if status != "FINISHED":
        lines += ["", f"**Status: {status}** (the stages below are those that ended)."]
    headline = _headline(test_metrics)
    if headline:
        lines += ["", headline]
    stages = list(stages)
    if stages:
        computed = sum(1 for record in stages if record.state == "computed")
        total = sum(record.seconds for record in stages)
        lines += ["", f"**Stages**: {computed} computed, {len(stages) - computed} cached, "
                      f"{total:.1f} s in all.", "", "| stage | state | seconds |",
                  "|---|---|---:|"]
        lines += [f"| {r.stage} | {r.state} | {r.seconds:.1f} |" for r in stages]
    lines += ["", *_metrics_table(test_metrics)]
    if model_uri:
        lines += ["", f"**Model**: `{model_uri}`"]
    note = "\n".join(lines).strip() + "\n"
    return note if len(note) <= _NOTE_LIMIT else note[:_NOTE_LIMIT - 2] + "…\n"


def _dataset_line(dataset: str, stats: Mapping[str, Any]) -> str:
    sizes = [f"{_count(stats[key])} {label}" for key, label in _DATASET_KEYS if key in stats]
    return f"**Dataset** `{dataset}`: " + (", ".join(sizes) if sizes else "not ingested") + "."


def _count(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def _headline(test_metrics: Mapping[str, float]) -> str:
    """``**Test**: NDCG@10 0.0512 (all), 0.0488 (unseen); HR@10 ...``, or "" without them."""
    parts = []
    for metric in _HEADLINE:
        found = [f"{value:.4f} ({name.rpartition('/')[0] or 'test'})"
                 for name, value in test_metrics.items() if name.rpartition("/")[2] == metric]
        if found:
            parts.append(f"{metric} " + ", ".join(found))
    return "**Test**: " + "; ".join(parts) + "." if parts else ""


def _metrics_table(test_metrics: Mapping[str, float]) -> list[str]:
    if not test_metrics:
        return ["**Test metrics**: none (the evaluate stage did not run)."]
    protocols: list[str] = []
    rows: dict[str, dict[str, float]] = {}
    for name, value in test_metrics.items():
        protocol, _, metric = name.rpartition("/")
        protocol = protocol or "test"
        if protocol not in protocols:
            protocols.append(protocol)
        rows.setdefault(metric, {})[protocol] = value
    table = ["**Test metrics**", "", "| metric | " + " | ".join(protocols) + " |",
             "|---|" + "---:|" * len(protocols)]
    for metric in sorted(rows, key=_metric_order):
        cells = [f"{rows[metric][p]:.4f}" if p in rows[metric] else "" for p in protocols]
        table.append(f"| {metric} | " + " | ".join(cells) + " |")
    return table


def _metric_order(metric: str) -> tuple[str, int, str]:
    """``HR@5, HR@10, HR@20, NDCG@5, ...``: by name, then cut-off as a number."""
    name, _, cutoff = metric.partition("@")
    return (name, int(cutoff) if cutoff.isdigit() else 0, metric)
