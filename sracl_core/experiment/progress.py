"""Where each run of a grid stands: finished, part-trained, or not started.

A grid on a CPU runs for days, across machines and bundles, so its state has to
be readable without starting anything: this reads only the artifact store and
the train stage's checkpoint folders. It answers while the grid runs in another
process, and after ``sracl cache import`` on a new machine.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sracl_core.atomic import complete_folder
from sracl_core.config import load_config
from sracl_core.experiment.grid import GridConfig, grid_runs
from sracl_core.experiment.results import is_finished, run_figures, training_seconds
from sracl_core.rec.run_folders import CHECKPOINTS, LAST, RUN_PREFIX, last_written
from sracl_core.stages.evaluate import model_facts
from sracl_core.stages.graph import outputs_of

RunState = Literal["finished", "trained", "part-trained", "damaged", "not started"]
"""``trained``: the model is published, its evaluation is not (evaluating now, or a run
stopped between the two stages). ``damaged``: its resume checkpoint's progress record
cannot be read (the run says which file when it starts)."""


@dataclass(frozen=True)
class RunProgress:
    """One variant x seed. ``epochs_done`` counts finished epochs; ``step`` is the position
    in the epoch the checkpoint was written at, and ``train_seconds`` the training and
    validation time up to it (part-trained runs), or
    :func:`~sracl_core.experiment.results.training_seconds` (trained and finished runs)."""

    variant: str
    seed: int
    state: RunState
    epochs: int
    epochs_done: int = 0
    step: int = 0
    train_seconds: float = 0.0
    best_epoch: int | None = None
    metric: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    """A finished run's test metrics (all of them; ``metric`` is the grid's first)."""
    damaged_evaluation: str | None = None
    """A trained run's damaged evaluate artifact (what is wrong), which its next run redoes."""
    seconds_left: float | None = None
    """A part-trained run's remaining epochs at the pace of its last ones (see
    :func:`seconds_left`); None before its first epoch has ended."""
    epoch_seconds: float | None = None
    """That pace: a part-trained run's mean epoch time over its last ended epochs."""

    @property
    def label(self) -> str:
        return f"{self.variant}/seed-{self.seed}"


def newest_checkpoint(folder: Path) -> dict | None:
    """The progress record of the most recently written ``last`` checkpoint among a
    fingerprint's run folders (a live run's included), or None when there is none.

    A folder caught mid-swap, or swapped while being read (the grid may be running),
    yields its previous version or the next folder instead of an error."""
    if not folder.is_dir():
        return None
    for run in sorted(folder.glob(f"{RUN_PREFIX}*"), key=last_written, reverse=True):
        for _ in range(2):  # once more if a swap moved it between finding and reading
            last = complete_folder(run / LAST)
            if last is None:
                break
            try:
                return json.loads((last / "progress.json").read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
    return None


def grid_progress(config_path: str | Path, grid: GridConfig,
                  extra: list[str] | tuple[str, ...] = ()) -> list[RunProgress]:
    """Every run of ``grid`` (already cut to the chosen variants), in the grid's run order;
    ``metric`` is the test value of the grid's first metric for finished runs. Finished
    means what it means to the grid: :func:`~sracl_core.experiment.results.is_finished`."""
    progress = []
    for run in grid_runs(grid, extra):
        config = load_config(config_path, run.overrides)
        outputs = outputs_of(config)
        epochs = config.train.epochs
        if is_finished(outputs):
            figures = run_figures(config)
            progress.append(RunProgress(
                run.variant, run.seed, "finished", epochs, figures.epochs_run or 0,
                train_seconds=figures.train_seconds, best_epoch=figures.best_epoch,
                metric=figures.metrics.get(grid.metrics[0]), metrics=figures.metrics))
        elif outputs.is_complete("train"):
            facts = model_facts(outputs.manifest("train") or {})
            evaluation = outputs.store.check("evaluate", outputs.fingerprint("evaluate"))
            progress.append(RunProgress(
                run.variant, run.seed, "trained", epochs, facts.get("train_epochs_run", 0),
                train_seconds=training_seconds(facts),
                best_epoch=facts.get("train_best_epoch"),
                damaged_evaluation=evaluation.problem if evaluation.state == "corrupt" else None))
        else:
            progress.append(_from_checkpoint(run.variant, run.seed, epochs, newest_checkpoint(
                outputs.stage_folder("train") / CHECKPOINTS / outputs.fingerprint("train"))))
    return progress


def _from_checkpoint(variant: str, seed: int, epochs: int, record: dict | None) -> RunProgress:
    if record is None:
        return RunProgress(variant, seed, "not started", epochs)
    try:
        history = record.get("history", [])
        seconds = float(record.get("train_seconds", 0.0)) + sum(
            epoch["train_seconds"] + epoch["eval_seconds"] for epoch in history)
        best = int(record.get("best_epoch", -1))
        step = int(record.get("step", 0))
        left, pace = seconds_left(record, epochs), recent_epoch_seconds(record)
    except (AttributeError, KeyError, TypeError, ValueError):  # not what a trainer writes
        return RunProgress(variant, seed, "damaged", epochs)
    return RunProgress(variant, seed, "part-trained", epochs, len(history), step=step,
                       train_seconds=seconds, best_epoch=best if best >= 0 else None,
                       seconds_left=left, epoch_seconds=pace)


def recent_epoch_seconds(record: dict) -> float | None:
    """Mean time (training and validation) of the last :data:`PACE_EPOCHS` ended epochs of a
    checkpoint's progress record; None before an epoch has ended."""
    recent = record.get("history", [])[-PACE_EPOCHS:]
    if not recent:
        return None
    return sum(e["train_seconds"] + e["eval_seconds"] for e in recent) / len(recent)


PACE_EPOCHS = 3
"""How many of the latest epochs set the pace: a resumed run is often on another machine
(or beside another load) than its early epochs were."""


def seconds_left(record: dict, epochs: int) -> float | None:
    """The time a part-trained run needs to reach ``epochs`` at the mean pace (training and
    validation) of its last :data:`PACE_EPOCHS` epochs, less the part of the current epoch
    already done; early stopping may end it sooner. None before an epoch has ended."""
    per_epoch = recent_epoch_seconds(record)
    if per_epoch is None:
        return None
    done = len(record["history"])
    steps_per_epoch = (int(record.get("global_step", 0)) - int(record.get("step", 0))) / done
    into_epoch = int(record.get("step", 0)) / steps_per_epoch if steps_per_epoch > 0 else 0.0
    return max(epochs - done - into_epoch, 0.0) * per_epoch


@dataclass(frozen=True)
class GridTimeLeft:
    """The run time a grid still needs if every run trains all its epochs (early stopping
    only shortens it), over the ``runs`` it could estimate; ``longest`` is the longest of
    them (what no number of runs side by side can shorten). ``unmeasured`` counts, per
    variant, the runs it could not estimate: no epoch time of that variant is known yet."""

    seconds: float
    runs: int
    longest: float
    unmeasured: dict[str, int]


def grid_time_left(runs: list[RunProgress]) -> GridTimeLeft:
    """Part-trained runs at their own recent pace (:func:`seconds_left`); a run not started,
    or not past its first epoch, for all its epochs at its variant's epoch time (the same
    variant costs the same per epoch whatever its seed). Finished and trained runs need
    nothing; a damaged run is left out (it needs a look before it can go on)."""
    paces = _epoch_paces(runs)
    estimates: list[float] = []
    unmeasured: dict[str, int] = {}
    for run in runs:
        if run.state in ("finished", "trained", "damaged"):
            continue
        if run.seconds_left is not None:
            estimates.append(run.seconds_left)
        elif run.variant in paces:
            estimates.append(paces[run.variant] * run.epochs)
        else:
            unmeasured[run.variant] = unmeasured.get(run.variant, 0) + 1
    return GridTimeLeft(sum(estimates), len(estimates), max(estimates, default=0.0), unmeasured)


def _epoch_paces(runs: list[RunProgress]) -> dict[str, float]:
    """Each variant's median seconds per epoch over its finished (or trained) runs, or over
    its part-trained runs' recent paces when none has finished. A finished run recorded
    before sracl kept its epoch count has none, and sets no pace."""
    finished: dict[str, list[float]] = {}
    partial: dict[str, list[float]] = {}
    for run in runs:
        if run.state in ("finished", "trained") and run.epochs_done > 0:
            finished.setdefault(run.variant, []).append(run.train_seconds / run.epochs_done)
        elif run.state == "part-trained" and run.epoch_seconds is not None:
            partial.setdefault(run.variant, []).append(run.epoch_seconds)
    return {variant: statistics.median(values)
            for variant, values in {**partial, **finished}.items()}
