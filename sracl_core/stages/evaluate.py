"""Evaluate: full-ranking test metrics of the best model, with and without seen items.

Both variants are reported under explicit names (``all/...`` ranks every item,
as the paper does; ``unseen/...`` removes the user's history first), because
silently filtered or sampled metrics are a classic source of wrong comparisons.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import polars as pl

from sracl_core.rec.checkpoint import load_model
from sracl_core.rec.metrics import evaluate_split, recommend
from sracl_core.stages.rec_inputs import evaluation_split, full_history
from sracl_core.stages.stage import Stage, config_section
from sracl_core.stages.tables import Table

if TYPE_CHECKING:
    from sracl_core.stages.context import StageContext
    from sracl_core.stages.outputs import StageOutputs

log = logging.getLogger(__name__)


def run(context: StageContext) -> None:
    config = context.config.evaluate
    model = load_model(context.input_path("train") / "model")
    test = evaluation_split(context, "test")
    history = full_history(context, "test")
    # the tie rule is train's, so test metrics judge the model as early stopping did
    metrics = evaluate_split(model, test, config, history=history,
                             ties=context.config.train.rank_ties)
    context.writer.write_table("metrics", pl.DataFrame(
        {"metric": list(metrics), "value": list(metrics.values())}))
    top = recommend(model, test.inputs, top_k=config.top_k, exclude_history=True,
                    batch_size=config.batch_size, history=history)
    context.writer.write_table("recommendations", pl.DataFrame(
        {"user": test.users.numpy(), "items": top.numpy().tolist()}))
    context.writer.stats.update(metrics)
    context.writer.stats.update(model_facts(context.outputs.manifest("train") or {}))
    shown = {k: v for k, v in metrics.items() if k.startswith("all/")} or metrics
    log.info("evaluate: %s", " ".join(f"{k}={v:.4f}" for k, v in shown.items()))


def test_metrics(outputs: StageOutputs) -> dict[str, float]:
    """The ``metrics`` table of a config's evaluate artifact as ``{name: value}``: what a
    grid aggregates and what ``sracl run`` prints when MLflow tracking is off."""
    metrics = outputs.table("evaluate", "metrics").select("metric", "value")
    return {str(name): float(value) for name, value in metrics.iter_rows()}


def model_facts(train_manifest: dict) -> dict[str, float | int]:
    """How the evaluated model was trained (wall time, best and last epoch), kept with its
    test metrics: a finished run's figures then travel in its evaluate artifact alone,
    without the model (``sracl_core.experiment.results``).

    ``train_wall_seconds`` is the train stage's last process only; ``train_epoch_seconds``
    sums every epoch's training and validation time, over all the processes a resumed run
    took (absent from train artifacts older than it)."""
    stats = train_manifest.get("stats", {})
    facts = {"train_wall_seconds": train_manifest.get("wall_seconds"),
             "train_epoch_seconds": stats.get("epoch_seconds"),
             "train_best_epoch": stats.get("best_epoch"),
             "train_epochs_run": stats.get("epochs_run")}
    return {key: value for key, value in facts.items() if value is not None}


TABLES = {"metrics": Table({"metric": pl.String(), "value": pl.Float64()}),
          "recommendations": Table({"user": pl.Int64(), "items": pl.List(pl.Int64())})}


STAGE = Stage("evaluate", inputs=("ingest", "train"), code_version="1",
              section=config_section("evaluate"), run=run, tables=TABLES,
              device="accelerator")
