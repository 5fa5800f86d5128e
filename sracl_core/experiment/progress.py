"""Where each run of a grid stands: finished, part-trained, or not started.

A grid on a CPU runs for days, across machines and bundles, so its state has to
be readable without starting anything: this reads only the artifact store and
the train stage's checkpoint folders. It answers while the grid runs in another
process, and after ``sracl cache import`` on a new machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sracl_core.config import load_config
from sracl_core.experiment.grid import GridConfig, grid_runs
from sracl_core.experiment.results import run_figures
from sracl_core.rec.run_folders import CHECKPOINTS, RUN_PREFIX, last_written
from sracl_core.stages.graph import outputs_of

RunState = Literal["finished", "part-trained", "not started"]


@dataclass(frozen=True)
class RunProgress:
    """One variant x seed. ``epochs_done`` counts finished epochs; ``step`` is the position
    in the epoch the checkpoint was written at, and ``train_seconds`` the training and
    validation time up to it (part-trained runs), or the train stage's wall time."""

    variant: str
    seed: int
    state: RunState
    epochs: int
    epochs_done: int = 0
    step: int = 0
    train_seconds: float = 0.0
    best_epoch: int | None = None
    metric: float | None = None

    @property
    def label(self) -> str:
        return f"{self.variant}/seed-{self.seed}"


def furthest_checkpoint(folder: Path) -> dict | None:
    """The progress record of the newest ``last`` checkpoint among a fingerprint's run
    folders (the one a resumed run adopts), or None when no run has written one."""
    if not folder.is_dir():
        return None
    runs = sorted(folder.glob(f"{RUN_PREFIX}*"), key=last_written, reverse=True)
    for run in runs:
        record = run / "last" / "progress.json"
        if record.is_file():
            return json.loads(record.read_text(encoding="utf-8"))
    return None


def grid_progress(config_path: str | Path, grid: GridConfig,
                  extra: list[str] | tuple[str, ...] = ()) -> list[RunProgress]:
    """Every run of ``grid`` (already cut to the chosen variants), in the grid's run order;
    ``metric`` is the test value of the grid's first metric for finished runs."""
    progress = []
    for run in grid_runs(grid, extra):
        config = load_config(config_path, run.overrides)
        outputs = outputs_of(config)
        epochs = config.train.epochs
        if outputs.is_complete("evaluate"):  # as the grid itself decides (flows/experiment.py)
            figures = run_figures(config)
            progress.append(RunProgress(
                run.variant, run.seed, "finished", epochs, figures.epochs_run or 0,
                train_seconds=figures.train_seconds, best_epoch=figures.best_epoch,
                metric=figures.metrics.get(grid.metrics[0])))
            continue
        record = furthest_checkpoint(
            outputs.stage_folder("train") / CHECKPOINTS / outputs.fingerprint("train"))
        if record is None:
            progress.append(RunProgress(run.variant, run.seed, "not started", epochs))
            continue
        history = record.get("history", [])
        seconds = float(record.get("train_seconds", 0.0)) + sum(
            epoch["train_seconds"] + epoch["eval_seconds"] for epoch in history)
        best = record.get("best_epoch", -1)
        progress.append(RunProgress(
            run.variant, run.seed, "part-trained", epochs, len(history),
            step=int(record.get("step", 0)), train_seconds=seconds,
            best_epoch=best if best >= 0 else None))
    return progress
