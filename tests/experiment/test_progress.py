"""A grid's progress from the cache alone: a finished run, a run stopped after its first
epoch (a real stop request, so a real checkpoint), a trained run not yet evaluated, and
one never started."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sracl_core.config import load_config
from sracl_core.experiment.grid import grid_runs, load_grid
from sracl_core.experiment.progress import grid_progress
from sracl_core.rec.run_folders import CHECKPOINTS
from sracl_core.stages.graph import outputs_of
from sracl_core.stages.runner import run_stage
from sracl_core.stopping import StopRequested, clear_stop, request_stop

GRID = """
name: progress
baseline: plain
seeds: [1, 2, 3, 4]
metrics: [all/NDCG@10]
overrides: [train.objective=next_item, train.epochs=3, train.progress=false,
            train.backbone.hidden_size=8, train.backbone.inner_size=8, train.batch_size=2]
variants:
  plain: []
reference:
  plain: {all/NDCG@10: 0.5}
"""


@pytest.fixture
def grid_state(tiny_config: Path, tmp_path: Path) -> Path:
    grid_path = tmp_path / "grid.yaml"
    grid_path.write_text(GRID)
    finished, stopped, trained, _ = grid_runs(load_grid(grid_path))
    for run, stages in ((finished, ("ingest", "train", "evaluate")), (trained, ("train",))):
        config = load_config(tiny_config, list(run.overrides))
        for stage in stages:
            run_stage(config, stage)

    def stop_after_the_first_epoch(report) -> None:
        request_stop()

    try:
        with pytest.raises(StopRequested):
            run_stage(load_config(tiny_config, list(stopped.overrides)), "train",
                      on_epoch=stop_after_the_first_epoch)
    finally:
        clear_stop()
    return grid_path


def test_each_run_is_finished_trained_part_trained_or_not_started(tiny_config: Path,
                                                                    grid_state: Path):
    runs = grid_progress(tiny_config, load_grid(grid_state))
    assert [(run.label, run.state) for run in runs] == [
        ("plain/seed-1", "finished"), ("plain/seed-2", "part-trained"),
        ("plain/seed-3", "trained"), ("plain/seed-4", "not started")]
    finished, stopped, trained, fresh = runs
    outputs = outputs_of(load_config(tiny_config,
                                     list(grid_runs(load_grid(grid_state))[0].overrides)))
    metrics = dict(outputs.table("evaluate", "metrics").iter_rows())
    assert finished.metric == metrics["all/NDCG@10"]
    manifest = outputs.manifest("train")
    assert finished.train_seconds == manifest["stats"]["epoch_seconds"] > 0
    assert finished.epochs_done == manifest["stats"]["epochs_run"] == 3
    assert stopped.epochs_done == 1 and stopped.epochs == 3 and stopped.best_epoch == 0
    assert stopped.train_seconds > 0 and stopped.metric is None
    assert trained.epochs_done == 3 and trained.train_seconds > 0 and trained.metric is None
    assert fresh.epochs_done == 0 and fresh.train_seconds == 0.0


def test_a_checkpoint_left_mid_swap_is_read_from_its_previous_version(tiny_config: Path,
                                                                      grid_state: Path):
    """A kill between the checkpoint swap's two renames leaves ``last.old`` alone; the
    trainer resumes from it, so progress reads it too."""
    stopped_run = grid_runs(load_grid(grid_state))[1]
    outputs = outputs_of(load_config(tiny_config, list(stopped_run.overrides)))
    folder = outputs.stage_folder("train") / CHECKPOINTS / outputs.fingerprint("train")
    (last,) = folder.glob("run-*/last")
    shutil.move(last, last.with_name("last.old"))
    stopped = grid_progress(tiny_config, load_grid(grid_state))[1]
    assert (stopped.state, stopped.epochs_done) == ("part-trained", 1)


def test_the_command_lists_every_run_and_counts_them(tiny_config: Path, grid_state: Path):
    from flows.cli import app

    result = CliRunner().invoke(app, ["inspect", "grid", "--grid", str(grid_state),
                                      "-c", str(tiny_config)], terminal_width=200)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("progress: 4 runs")
    assert "plain/seed-1  finished" in lines[1] and "all/NDCG@10 0." in lines[1]
    assert "plain/seed-2  part-trained" in lines[2] and " 1/3 epochs" in lines[2]
    assert "plain/seed-3  trained" in lines[3] and "3/3 epochs, evaluating" in lines[3]
    assert lines[4].split() == ["plain/seed-4", "not", "started"]
    assert lines[5] == "1 finished, 1 trained, 1 part-trained, 1 not started"


def test_a_damaged_evaluation_is_named_not_shown_as_evaluating(tiny_config: Path,
                                                                grid_state: Path):
    from flows.cli import app

    finished_run = grid_runs(load_grid(grid_state))[0]
    outputs = outputs_of(load_config(tiny_config, list(finished_run.overrides)))
    metrics = outputs.store.path("evaluate", outputs.fingerprint("evaluate")) / "metrics.parquet"
    metrics.unlink()
    finished = grid_progress(tiny_config, load_grid(grid_state))[0]
    assert finished.state == "trained"
    assert finished.damaged_evaluation == f"{metrics}: missing, though the manifest lists it"
    result = CliRunner().invoke(app, ["inspect", "grid", "--grid", str(grid_state),
                                      "-c", str(tiny_config)], terminal_width=300)
    line = result.output.splitlines()[1]
    assert "3/3 epochs" in line and "evaluating" not in line
    assert f"evaluate artifact damaged ({metrics}: missing, though the manifest lists it); " \
           "the next `sracl experiment` recomputes it" in line


@pytest.mark.parametrize("record", ["[1, 2]", '{"history": [{"epoch": 0}]}',
                                    '{"history": [{"train_seconds": 1, "eval_seconds": 1}], '
                                    '"global_step": "x"}'],
                         ids=["not-an-object", "history-without-times", "step-not-a-number"])
def test_a_progress_record_that_is_json_but_no_trainers_is_shown_as_damaged(
        tiny_config: Path, grid_state: Path, record: str):
    """Before, ``inspect grid`` failed with a raw AttributeError or KeyError traceback."""
    from flows.cli import app

    stopped_run = grid_runs(load_grid(grid_state))[1]
    outputs = outputs_of(load_config(tiny_config, list(stopped_run.overrides)))
    folder = outputs.stage_folder("train") / CHECKPOINTS / outputs.fingerprint("train")
    (progress,) = folder.glob("run-*/last/progress.json")
    progress.write_text(record)
    assert grid_progress(tiny_config, load_grid(grid_state))[1].state == "damaged"
    result = CliRunner().invoke(app, ["inspect", "grid", "--grid", str(grid_state),
                                      "-c", str(tiny_config)], terminal_width=200)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "plain/seed-2  damaged" in lines[2] and "cannot be read" in lines[2]
    assert lines[5] == "1 finished, 1 trained, 0 part-trained, 1 damaged, 1 not started"


def test_the_table_of_a_grid_in_progress_covers_its_finished_runs(tiny_config: Path,
                                                                   grid_state: Path):
    from flows.cli import app

    result = CliRunner().invoke(app, ["inspect", "grid", "--grid", str(grid_state),
                                      "-c", str(tiny_config), "--table"], terminal_width=200)
    assert result.exit_code == 0, result.output
    finished = grid_runs(load_grid(grid_state))[0]
    value = dict(outputs_of(load_config(tiny_config, list(finished.overrides))).table(
        "evaluate", "metrics").iter_rows())["all/NDCG@10"]
    assert "over the 1 finished runs of 4:" in result.output
    minutes = grid_progress(tiny_config, load_grid(grid_state))[0].train_seconds / 60
    assert f"| plain | {value:.4f} [paper 0.5000] | {minutes:.0f} |" in result.output
    assert "over up to 1 seeds" in result.output
    # "[paper ...]" is printed as text, not read as console markup (it vanished as a tag)


def test_a_grid_without_a_finished_run_has_no_table(tiny_config: Path, tmp_path: Path):
    from flows.cli import app

    grid_path = tmp_path / "grid.yaml"
    grid_path.write_text(GRID)
    result = CliRunner().invoke(app, ["inspect", "grid", "--grid", str(grid_path),
                                      "-c", str(tiny_config), "--table"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "no finished runs yet: no table" in result.output


def _epoch(train: float, valid: float) -> dict:
    return {"train_seconds": train, "eval_seconds": valid}


def test_time_left_is_the_remaining_epochs_at_the_pace_of_the_last_three():
    """40 epochs of 514 steps, 5 done, 257 steps into the sixth: 34.5 epochs left at the
    mean of epochs 2-4 (the first, on another machine, does not set the pace)."""
    from sracl_core.experiment.progress import seconds_left

    record = {"history": [_epoch(900, 10), _epoch(500, 4), _epoch(100, 2), _epoch(110, 2),
                          _epoch(120, 2)],
              "global_step": 5 * 514 + 257, "step": 257}
    assert seconds_left(record, 40) == pytest.approx(34.5 * 112)
    assert seconds_left({**record, "step": 0, "global_step": 5 * 514}, 5) == 0.0
    assert seconds_left({"history": [], "step": 30, "global_step": 30}, 40) is None


def test_the_command_says_how_long_a_part_trained_run_has_left(tiny_config: Path,
                                                               grid_state: Path):
    from flows.cli import app

    stopped = grid_progress(tiny_config, load_grid(grid_state))[1]
    assert stopped.seconds_left is not None and stopped.seconds_left > 0
    result = CliRunner().invoke(app, ["inspect", "grid", "--grid", str(grid_state),
                                      "-c", str(tiny_config)], terminal_width=200)
    lines = result.output.splitlines()
    assert lines[2].endswith(f"~{stopped.seconds_left / 60:.0f} min left")
    assert lines[6].startswith("(min left: each part-trained run's remaining epochs")


def test_time_left_for_the_grid_adds_each_runs_estimate_by_hand():
    """Part-trained runs count their own estimate; the others their variant's median epoch
    time (finished runs', else part-trained runs' recent paces) times their epochs; damaged
    runs are left out, and variants without a known epoch time are named, not guessed."""
    from sracl_core.experiment.progress import RunProgress, grid_time_left

    def part(variant: str, seed: int, left: float | None, pace: float | None) -> RunProgress:
        return RunProgress(variant, seed, "part-trained", 20, 4 if pace else 0,
                           train_seconds=999.0, seconds_left=left, epoch_seconds=pace)

    runs = [
        RunProgress("a", 1, "finished", 10, 10, train_seconds=1000.0),   # 100 s an epoch
        RunProgress("a", 2, "finished", 10, 5, train_seconds=1500.0),    # 300 (stopped early)
        RunProgress("a", 3, "finished", 10, 10, train_seconds=2000.0),   # 200
        RunProgress("a", 4, "not started", 10),                          # 10 x median 200
        part("a", 5, 700.0, 9.0),                 # its own estimate; its pace is not a's
        part("b", 1, 900.0, 60.0),
        part("b", 2, 800.0, 50.0),
        RunProgress("b", 3, "not started", 20),                          # 20 x median(60, 50)
        RunProgress("b", 4, "damaged", 20),
        RunProgress("c", 1, "not started", 10),
        part("c", 2, None, None),                                       # no epoch ended yet
        RunProgress("c", 3, "finished", 10, 0, train_seconds=500.0),    # no epoch count
        RunProgress("d", 1, "trained", 10, 10, train_seconds=50.0),
    ]
    left = grid_time_left(runs)
    assert left.seconds == pytest.approx(2000 + 700 + 900 + 800 + 20 * 55)
    assert (left.runs, left.longest) == (5, 2000.0)
    assert left.unmeasured == {"c": 2}


def test_the_command_sums_the_time_the_grid_has_left(tiny_config: Path, grid_state: Path):
    from flows.cli import app
    from sracl_core.experiment.progress import grid_time_left

    left = grid_time_left(grid_progress(tiny_config, load_grid(grid_state)))
    result = CliRunner().invoke(app, ["inspect", "grid", "--grid", str(grid_state),
                                      "-c", str(tiny_config)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert (f"training left: about {left.seconds / 3600:.1f} h of run time over "
            f"{left.runs} runs") in result.output
