"""Train: fit the backbone with SRA-CL's objectives; keep the best model and the epoch log.

Resume state lives outside the artifact folder, one folder per run
(``train/.checkpoints/<fingerprint>/run-*``, see :mod:`sracl_core.rec.run_folders`),
so that a killed run's successor picks up mid-epoch; it is removed once the
artifact with the same fingerprint has been published.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from sracl_core.rec.backbones.sasrec import BF16_CPU_ROW_MULTIPLE
from sracl_core.rec.run_folders import CHECKPOINTS, remove_finished, run_folder
from sracl_core.rec.trainer import EpochReport, train
from sracl_core.stages.rec_inputs import semantic_neighbours, training_data
from sracl_core.stages.stage import Stage, seeded_section
from sracl_core.stages.tables import Table

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig
    from sracl_core.stages.context import StageContext

log = logging.getLogger(__name__)
epoch_log = logging.getLogger("sracl-epochs.train")
"""Per-epoch lines: in the log file (and MLflow, live); the console has the progress bars."""


def run(context: StageContext) -> None:
    config = context.config.train
    data = training_data(context)
    neighbours = semantic_neighbours(context) if config.objective.needs_neighbours else None
    checkpoints = checkpoint_root(context)
    locks = context.store.locks_dir("train") / CHECKPOINTS
    _remove_finished_checkpoints(context, checkpoints, locks)
    log.info("train: %s on %d samples, objective %s (losses %s), up to %d epochs (patience %d)",
             config.backbone.name, data.train_targets.numel(), config.objective.name,
             "+".join(config.objective.loss_parts), config.epochs, config.patience)
    seed = context.config.seed if config.seed is None else config.seed
    fp = context.fingerprints["train"]
    with run_folder(checkpoints / fp, locks / fp) as checkpoint_dir:
        result = train(config, data, neighbours, seed=seed, checkpoint_dir=checkpoint_dir,
                       on_epoch=lambda report: _on_epoch(context, report))
        shutil.copytree(result.model_dir, context.writer.path("model"))
    context.writer.write_table("epochs", epochs_table(result.history))
    log.info("train: best epoch %d of %d (%s)%s", result.best_epoch, len(result.history),
             " ".join(f"{k}={v:.4f}" for k, v in result.best_valid.items() if k.endswith("@10")),
             ", stopped early" if result.stopped_early else "")
    context.writer.stats.update(
        best_epoch=result.best_epoch,
        epochs_run=len(result.history),
        epoch_seconds=round(sum(r.train_seconds + r.eval_seconds for r in result.history), 3),
        stopped_early=result.stopped_early,
        **{f"valid/{name}": value for name, value in result.best_valid.items()},
    )


def checkpoint_root(context: StageContext) -> Path:
    return context.outputs.stage_folder("train") / CHECKPOINTS


def epochs_table(history: list[EpochReport]) -> pl.DataFrame:
    """One row per epoch: ``loss/<part>``, ``valid/<metric>``, timings, improvement flag."""
    rows = [
        {"epoch": report.epoch,
         **{f"loss/{name}": value for name, value in report.losses.items()},
         **{f"valid/{name}": value for name, value in report.valid.items()},
         "train_seconds": report.train_seconds, "eval_seconds": report.eval_seconds,
         "improved": report.improved}
        for report in history
    ]
    return pl.DataFrame(rows)


def _on_epoch(context: StageContext, report: EpochReport) -> None:
    _log_epoch(report)
    if context.on_epoch is not None:
        context.on_epoch(report)


def _log_epoch(report: EpochReport) -> None:
    losses = " ".join(f"{name}={value:.4f}" for name, value in report.losses.items())
    epoch_log.info("train: epoch %d %s valid %s (%.1fs)%s", report.epoch, losses,
             " ".join(f"{k}={v:.4f}" for k, v in report.valid.items() if k.endswith("@10")),
             report.train_seconds, " *" if report.improved else "")


def _remove_finished_checkpoints(context: StageContext, root: Path, locks: Path) -> None:
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if context.store.is_complete("train", folder.name):
            remove_finished(folder, locks / folder.name)


def inputs(config: PipelineConfig) -> tuple[str, ...]:
    """Plain backbones need no neighbours; collaborative ones no profiles or embeddings."""
    if not config.train.objective.needs_neighbours:
        return ("ingest",)
    if config.neighbours.source == "collaborative":
        return ("ingest", "prompts", "neighbours")
    return ("ingest", "prompts", "embeddings", "neighbours")


TABLES = {"epochs": Table({"epoch": pl.Int64(), "train_seconds": pl.Float64(),
                            "eval_seconds": pl.Float64(), "improved": pl.Boolean()},
                           prefixes=("loss/", "valid/"))}


def fingerprinted_settings(config: PipelineConfig) -> dict[str, Any]:
    """The train section and seed; a bf16 SASRec run also carries how CPU buckets are padded.

    Padding bf16 buckets on CPU changed bf16 SASRec models only, so it enters their
    fingerprints alone and every fp32 (and GRU4Rec) artifact keeps its fingerprint.
    """
    payload = seeded_section("train")(config)
    if config.train.precision == "bf16" and config.train.backbone.name == "sasrec":
        payload["bf16_cpu_bucket_rows"] = BF16_CPU_ROW_MULTIPLE
    return payload


STAGE = Stage("train", inputs=inputs, code_version="1", section=fingerprinted_settings,
              run=run, tables=TABLES, device="accelerator")
