"""What each stage's outputs contribute to its MLflow run.

One function per stage reads the stage's manifest and tables from the artifact
store and logs what a person wants to look at. Every table is optional: a
stage that does not write it (yet) simply logs less.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl
from mlflow import MlflowClient
from mlflow.entities import Metric

from sracl_core.artifacts import ArtifactStore

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig

_METRIC_NAME_UNSAFE = re.compile(r"[^/\w.\- ]")


def metric_name(name: str) -> str:
    """MLflow metric names allow letters, digits and ``_-. /``: ``NDCG@10`` -> ``NDCG_10``."""
    return _METRIC_NAME_UNSAFE.sub("_", name)


@dataclass
class StageLogResult:
    """What a stage hands up to the pipeline run beyond its own nested run."""

    test_metrics: dict[str, float] = field(default_factory=dict)
    model_uri: str | None = None


@dataclass
class StageLog:
    """One stage's view of the run: its artifact, its nested run and the parent run."""

    config: PipelineConfig
    client: MlflowClient
    store: ArtifactStore
    fingerprints: Mapping[str, str]
    stage: str
    run_id: str
    parent_run_id: str

    @property
    def fingerprint(self) -> str:
        return self.fingerprints[self.stage]

    def manifest(self, stage: str | None = None) -> dict[str, Any] | None:
        stage = stage or self.stage
        if not self.store.is_complete(stage, self.fingerprints[stage]):
            return None
        return self.store.manifest(stage, self.fingerprints[stage])

    def table(self, name: str, stage: str | None = None) -> pl.DataFrame | None:
        """A table of this (or another) stage's artifact, or None when it was not written."""
        stage = stage or self.stage
        path = self.store.path(stage, self.fingerprints[stage]) / f"{name}.parquet"
        if not self.store.is_complete(stage, self.fingerprints[stage]) or not path.is_file():
            return None
        return pl.read_parquet(path)

    def log_metrics(self, values: Mapping[str, float], *, step: int = 0,
                    parent: bool = False) -> None:
        now = int(time.time() * 1000)
        metrics = [Metric(metric_name(k), float(v), now, step) for k, v in values.items()
                   if _is_number(v)]
        for run_id in (self.run_id, self.parent_run_id) if parent else (self.run_id,):
            for start in range(0, len(metrics), 1000):
                self.client.log_batch(run_id, metrics=metrics[start:start + 1000])

    def log_table(self, table: pl.DataFrame, artifact_file: str, *, parent: bool = False) -> None:
        """A table shown as a grid in the MLflow UI (lists become readable strings)."""
        readable = table.with_columns(
            pl.col(name).map_elements(_join_list, return_dtype=pl.String)
            for name, dtype in table.schema.items() if isinstance(dtype, pl.List)
        )
        frame = readable.to_pandas()
        for run_id in (self.run_id, self.parent_run_id) if parent else (self.run_id,):
            self.client.log_table(run_id, data=frame, artifact_file=artifact_file)


def _join_list(values: pl.Series | list[Any] | None) -> str:
    if values is None:
        return ""
    return " | ".join(str(v) for v in values)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(float(value))


def log_stats(run: StageLog) -> None:
    """Every stage: the numeric stats of its manifest as metrics ``stats.<key>``."""
    manifest = run.manifest() or {}
    run.log_metrics({f"stats.{k}": v for k, v in manifest.get("stats", {}).items()})


def log_ingest(run: StageLog) -> StageLogResult:
    """Dataset statistics, on the stage run and on the pipeline run (``dataset.<key>``)."""
    log_stats(run)
    stats = (run.manifest() or {}).get("stats", {})
    run.log_metrics({f"dataset.{k}": v for k, v in stats.items()}, parent=True)
    numeric = {k: v for k, v in stats.items() if _is_number(v)}
    if numeric:
        table = pl.DataFrame({"statistic": list(numeric), "value": [float(v) for v in
                                                                    numeric.values()]})
        run.log_table(table, "tables/dataset_stats.json", parent=True)
    return StageLogResult()


def log_samples(run: StageLog) -> StageLogResult:
    """Stats plus the first rows of every table the stage wrote, with item titles where
    the table names items, so a person can read what the stage produced."""
    log_stats(run)
    manifest = run.manifest() or {}
    titles = item_titles(run)
    for name in manifest.get("tables", {}):
        table = run.table(name)
        if table is None:
            continue
        sample = table.head(run.config.tracking.sample_rows)
        if titles is not None and "item" in sample.columns and "title" not in sample.columns:
            sample = sample.join(titles, on="item", how="left")
        run.log_table(sample, f"samples/{run.stage}_{name}.json")
    return StageLogResult()


def log_stats_only(run: StageLog) -> StageLogResult:
    """Stages whose tables are not for reading (vectors): their stats only."""
    log_stats(run)
    return StageLogResult()


def item_titles(run: StageLog) -> pl.DataFrame | None:
    """``item -> title`` from the ingest artifact, when it has titles."""
    items = run.table("items", stage="ingest")
    if items is None or "title" not in items.columns:
        return None
    return items.select("item", "title")


StageLogger = Callable[[StageLog], StageLogResult]

STAGE_LOGGERS: dict[str, StageLogger] = {
    "ingest": log_ingest,
    "prompts": log_samples,
    "profiles": log_samples,
    "embeddings": log_stats_only,
    "neighbours": log_samples,
}
