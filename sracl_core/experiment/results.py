"""Read a finished grid run's figures from the artifact store, and write the grid's tables.

Figures come from the evaluate and train artifacts of each run's exact config (the
evaluate artifact alone where the model was not kept: it records how the model was
trained), so a grid that is re-run (or continued after a kill) reports the same
numbers without recomputing anything, and wall times are those of the original work.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sracl_core.atomic import replacing, write_text
from sracl_core.config import PipelineConfig
from sracl_core.errors import SraclError
from sracl_core.stages.evaluate import model_facts, test_metrics
from sracl_core.stages.graph import outputs_of
from sracl_core.stages.outputs import StageOutputs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunFigures:
    metrics: dict[str, float]
    train_fingerprint: str
    train_seconds: float
    best_epoch: int | None
    epochs_run: int | None


def is_finished(outputs: StageOutputs) -> bool:
    """A grid run is finished when its evaluate artifact is usable (a damaged one is
    recomputed by its pipeline run, as any stage's is)."""
    return outputs.store.check("evaluate", outputs.fingerprint("evaluate")).usable


def run_figures(config: PipelineConfig) -> RunFigures:
    """Test metrics, the train stage's wall time and its best epoch for this config."""
    outputs = outputs_of(config)
    if not outputs.is_complete("evaluate"):
        raise SraclError(f"{config.dataset}: evaluate ({outputs.fingerprint('evaluate')}) is "
                         "not computed for this run")
    # the train manifest where the model is here, else what evaluate recorded of it (a
    # bundle of evaluate artifacts only)
    evaluated = (outputs.manifest("evaluate") or {}).get("stats", {})
    facts = {**evaluated, **model_facts(outputs.manifest("train") or {})}
    if "train_wall_seconds" not in facts:
        log.warning("%s: evaluate %s predates the training facts it now records and its "
                    "train artifact %s is not here: wall time and epochs unknown",
                    config.dataset, outputs.fingerprint("evaluate"), outputs.fingerprint("train"))
    return RunFigures(test_metrics(outputs), outputs.fingerprint("train"),
                      training_seconds(facts), facts.get("train_best_epoch"),
                      facts.get("train_epochs_run"))


def training_seconds(facts: dict) -> float:
    """A run's training time: summed over its epochs where known, so that a run resumed
    after interruptions counts every process; else the train stage's last process."""
    return float(facts.get("train_epoch_seconds", facts.get("train_wall_seconds", 0.0)))


def results_folder(config: PipelineConfig, grid_name: str) -> Path:
    return Path(config.cache_root) / config.dataset / "experiments" / grid_name


def write_results(folder: Path, runs: pl.DataFrame, summary: pl.DataFrame,
                  markdown: str, grid: dict | None = None) -> dict[str, Path]:
    """``runs.parquet`` (one row per run and metric), ``summary.parquet``, ``summary.md`` and,
    with ``grid``, ``grid.json``: the definition that made them (the folder is named by the
    grid's name alone, so two grid files of one name take turns in it; the record says which
    one the tables are from). Each is written to a temporary name and renamed, so a reader
    never sees half a table."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"runs": folder / "runs.parquet", "summary": folder / "summary.parquet",
             "markdown": folder / "summary.md"}
    if grid is not None:
        paths["grid"] = folder / "grid.json"
        _note_a_different_definition(paths["grid"], grid)
    for key, table in (("runs", runs), ("summary", summary)):
        with replacing(paths[key]) as temporary:
            table.write_parquet(temporary)
    write_text(paths["markdown"], markdown + "\n")
    if grid is not None:
        write_text(paths["grid"], json.dumps(grid, indent=2) + "\n")
    return paths


def _definition(record: dict) -> dict:
    """What defines a grid's results: its keys but the file it was read from, and but empty
    ones, so a record from before a key existed (``compare_to``) reads as it does now."""
    return {key: value for key, value in record.items()
            if key != "file" and value not in ({}, [], None)}


def _note_a_different_definition(record: Path, grid: dict) -> None:
    try:
        before = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(before, dict):
        return
    old, new = _definition(before), _definition(grid)
    changed = sorted(key for key in {*old, *new} if old.get(key) != new.get(key))
    if changed:
        log.warning("%s: these results were from another definition of grid %r (from %s; "
                    "it differs in %s); replacing them with those of %s", record.parent,
                    grid.get("name"), before.get("file", "file unknown"), ", ".join(changed),
                    grid.get("file"))
