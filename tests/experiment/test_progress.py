"""A grid's progress from the cache alone: a finished run, a run stopped after its first
epoch (a real stop request, so a real checkpoint), and one never started."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sracl_core.config import load_config
from sracl_core.experiment.grid import grid_runs, load_grid
from sracl_core.experiment.progress import grid_progress
from sracl_core.experiment.results import run_figures
from sracl_core.stages.runner import run_stage
from sracl_core.stopping import StopRequested, clear_stop, request_stop

GRID = """
name: progress
baseline: plain
seeds: [1, 2, 3]
metrics: [all/NDCG@10]
overrides: [train.objective=next_item, train.epochs=3, train.progress=false,
            train.backbone.hidden_size=8, train.backbone.inner_size=8, train.batch_size=2]
variants:
  plain: []
"""


@pytest.fixture
def grid_state(tiny_config: Path, tmp_path: Path) -> Path:
    grid_path = tmp_path / "grid.yaml"
    grid_path.write_text(GRID)
    finished, stopped, _ = grid_runs(load_grid(grid_path))
    config = load_config(tiny_config, list(finished.overrides))
    for stage in ("ingest", "train", "evaluate"):
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


def test_each_run_is_finished_part_trained_or_not_started(tiny_config: Path, grid_state: Path):
    runs = grid_progress(tiny_config, load_grid(grid_state))
    assert [(run.label, run.state) for run in runs] == [
        ("plain/seed-1", "finished"), ("plain/seed-2", "part-trained"),
        ("plain/seed-3", "not started")]
    finished, stopped, fresh = runs
    figures = run_figures(load_config(tiny_config, list(grid_runs(load_grid(grid_state))[0]
                                                        .overrides)))
    assert finished.metric == figures.metrics["all/NDCG@10"]
    assert finished.epochs_done == 3 and finished.train_seconds == figures.train_seconds
    assert stopped.epochs_done == 1 and stopped.epochs == 3 and stopped.best_epoch == 0
    assert stopped.train_seconds > 0 and stopped.metric is None
    assert fresh.epochs_done == 0 and fresh.train_seconds == 0.0


def test_the_command_lists_every_run_and_counts_them(tiny_config: Path, grid_state: Path):
    from flows.cli import app

    result = CliRunner().invoke(app, ["inspect", "grid", "--grid", str(grid_state),
                                      "-c", str(tiny_config)], terminal_width=200)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("progress: 3 runs")
    assert "plain/seed-1  finished" in lines[1] and "all/NDCG@10 0." in lines[1]
    assert "plain/seed-2  part-trained" in lines[2] and " 1/3 epochs" in lines[2]
    assert lines[3].split() == ["plain/seed-3", "not", "started"]
    assert lines[4] == "1 finished, 1 part-trained, 1 not started"
