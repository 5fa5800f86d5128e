"""What each stage's outputs contribute to its MLflow run.

One function per stage reads the stage's manifest and tables from the artifact
store and logs what a person wants to look at. Every table is optional: a
stage that does not write it (yet) simply logs less.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl
from mlflow import MlflowClient

from sracl_core.tracking.batches import flatten, is_number, log_batch
from sracl_core.tracking.model import link_model, log_recommender, registered_model_name
from sracl_core.tracking.plots import training_curves

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig
    from sracl_core.stages.outputs import StageOutputs

@dataclass
class StageLogResult:
    """What a stage hands up to the pipeline run beyond its own nested run."""

    test_metrics: dict[str, float] = field(default_factory=dict)
    model_uri: str | None = None
    model_id: str | None = None


@dataclass
class StageLog:
    """One stage's view of the run: its artifact, its nested run and the parent run."""

    config: PipelineConfig
    client: MlflowClient
    outputs: StageOutputs
    stage: str
    run_id: str
    parent_run_id: str
    live_epochs: frozenset[int] = frozenset()
    """Epochs the pipeline run already got while training; not logged to it twice."""

    @property
    def fingerprint(self) -> str:
        return self.outputs.fingerprint(self.stage)

    def manifest(self, stage: str | None = None) -> dict[str, Any] | None:
        return self.outputs.manifest(stage or self.stage)

    def table(self, name: str, stage: str | None = None) -> pl.DataFrame | None:
        """A table of this (or another) stage's artifact, or None when it was not written."""
        return self.outputs.table_if_written(stage or self.stage, name)

    def log_metrics(self, values: Mapping[str, float], *, step: int = 0,
                    parent: bool = False) -> None:
        for run_id in (self.run_id, self.parent_run_id) if parent else (self.run_id,):
            log_batch(self.client, run_id, metrics=values, step=step)

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


def log_stats(run: StageLog) -> None:
    """Every stage: the numeric stats of its manifest as metrics ``stats.<key>``."""
    manifest = run.manifest() or {}
    run.log_metrics({f"stats.{k}": v for k, v in manifest.get("stats", {}).items()})


def log_ingest(run: StageLog) -> StageLogResult:
    """Dataset statistics, on the stage run and on the pipeline run (``dataset.<key>``)."""
    log_stats(run)
    stats = (run.manifest() or {}).get("stats", {})
    run.log_metrics({f"dataset.{k}": v for k, v in stats.items()}, parent=True)
    numeric = {k: v for k, v in stats.items() if is_number(v)}
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


def log_neighbours(run: StageLog) -> StageLogResult:
    """Stats, and neighbour examples a person can judge: item titles next to their neighbours'
    titles, a user's latest titles next to those of the users retrieved for them."""
    log_stats(run)
    titles = item_titles(run)
    rows = run.config.tracking.sample_rows
    items = run.table("item_neighbours")
    if titles is not None and items is not None:
        title_of = dict(zip(titles["item"].to_list(), titles["title"].to_list(), strict=True))
        examples = items.sort("item").head(rows).select(
            "item",
            pl.col("item").replace_strict(title_of, default=None).alias("title"),
            pl.col("neighbours").list.eval(
                pl.element().replace_strict(title_of, default=None)).alias("neighbour_titles"),
        )
        run.log_table(examples, "examples/item_neighbours.json")
    histories = profile_histories(run, titles)
    users = run.table("user_neighbours")
    if histories is not None and users is not None:
        latest = dict(zip(histories["profile"].to_list(), histories["history"].to_list(),
                          strict=True))
        examples = users.sort("profile").head(rows).select(
            "profile",
            pl.col("profile").replace_strict(latest, default=None).alias("history"),
            pl.col("neighbours").list.eval(
                pl.element().replace_strict(latest, default=None)).alias("neighbour_histories"),
        )
        run.log_table(examples, "examples/user_neighbours.json")
    return StageLogResult()


def profile_histories(run: StageLog, titles: pl.DataFrame | None,
                      latest: int = 3) -> pl.DataFrame | None:
    """``profile -> "title; title; title"``: the newest titles of the sequence a profile row
    stands for (the user's training sequence, or the training prefix)."""
    prompts = run.table("user_prompts", stage="prompts")
    sequences = run.table("sequences", stage="ingest")
    samples = run.table("train_samples", stage="ingest")
    if titles is None or prompts is None or sequences is None or samples is None:
        return None
    title_of = dict(zip(titles["item"].to_list(), titles["title"].to_list(), strict=True))
    rows = (prompts.select("profile", "user", "sample")
            .join(sequences.select("user", "train"), on="user", how="left")
            .join(samples.select("sample", "prefix"), on="sample", how="left")
            .with_columns(pl.coalesce("prefix", "train").alias("sequence")))
    return rows.select(
        "profile",
        pl.col("sequence").list.tail(latest).list.eval(
            pl.element().replace_strict(title_of, default="?")).list.join("; ").alias("history"),
    )


def log_train(run: StageLog) -> StageLogResult:
    """Per-epoch losses and validation metrics (step = epoch) on the stage and pipeline runs,
    the training curves, the epoch table, and the best model, registered and listed as a
    logged model of both runs (also when a cached re-run found it already registered)."""
    log_stats(run)
    epochs = run.table("epochs")
    if epochs is not None and epochs.height:
        log_epochs(run, epochs)
        figure = training_curves(epochs)
        for run_id in (run.run_id, run.parent_run_id):
            run.client.log_figure(run_id, figure, "plots/training_curves.png")
        run.log_table(epochs, "tables/epochs.json", parent=True)
    model_dir = run.outputs.path("train") / "model"
    items = run.outputs.path("ingest") / "items.parquet"
    if not (run.config.tracking.log_model and model_dir.is_dir() and items.is_file()):
        return StageLogResult()
    model = log_recommender(
        run.client, run.run_id, name=registered_model_name(run.config), model_dir=model_dir,
        items_table=items, train_fingerprint=run.fingerprint, top_k=run.config.tracking.top_k,
        params=flatten(run.config.train.model_dump(mode="json"), "train."))
    for run_id in (run.run_id, run.parent_run_id):
        run.client.set_tag(run_id, "sracl.model_uri", model.uri)
        if model.model_id is not None:
            link_model(run.client, run_id, model.model_id)
    return StageLogResult(model_uri=model.uri, model_id=model.model_id)


def epoch_metrics(epochs: pl.DataFrame) -> list[tuple[int, dict[str, float]]]:
    """(epoch, every numeric column) per row of the epoch table: what MLflow gets per step."""
    columns = [name for name, dtype in epochs.schema.items()
               if dtype.is_numeric() and name != "epoch"]
    return [(int(row["epoch"]), {name: row[name] for name in columns})
            for row in epochs.iter_rows(named=True)]


def log_epochs(run: StageLog, epochs: pl.DataFrame) -> None:
    """Each epoch as one step, on the stage run, and on the pipeline run for the epochs it
    did not get live."""
    for epoch, values in epoch_metrics(epochs):
        run.log_metrics(values, step=epoch, parent=epoch not in run.live_epochs)


def log_evaluate(run: StageLog) -> StageLogResult:
    """Test metrics (``test/all/...`` ranks every item, ``test/unseen/...`` filters history)
    on both runs, as a table, and example recommendations with titles."""
    metrics = run.table("metrics")
    values: dict[str, float] = {}
    if metrics is not None and {"metric", "value"} <= set(metrics.columns):
        values = dict(zip(metrics["metric"].to_list(), metrics["value"].to_list(), strict=True))
        run.log_metrics({f"test/{name}": value for name, value in values.items()}, parent=True)
        run.log_table(metrics, "tables/test_metrics.json", parent=True)
    titles = item_titles(run)
    recommendations = run.table("recommendations")
    if titles is not None and recommendations is not None:
        title_of = dict(zip(titles["item"].to_list(), titles["title"].to_list(), strict=True))
        examples = recommendations.sort("user").head(run.config.tracking.sample_rows).select(
            "user",
            pl.col("items").list.head(5).list.eval(
                pl.element().replace_strict(title_of, default=None)).alias("top5_titles"),
        )
        run.log_table(examples, "examples/recommendations.json")
    return StageLogResult(test_metrics={k: float(v) for k, v in values.items()})


StageLogger = Callable[[StageLog], StageLogResult]

STAGE_LOGGERS: dict[str, StageLogger] = {
    "ingest": log_ingest,
    "prompts": log_samples,
    "profiles": log_samples,
    "embeddings": log_stats_only,
    "neighbours": log_neighbours,
    "train": log_train,
    "evaluate": log_evaluate,
}
"""What each built-in stage shows in MLflow beyond its nested run's seconds and row counts.
Stages do not import MLflow; a stage without an entry here (a plug-in's) logs its manifest
stats; a plug-in adds its own entry to show more."""


def stage_logger(stage: str) -> StageLogger:
    return STAGE_LOGGERS.get(stage, log_stats_only)
