"""``run_in_processes``: concurrent grid runs in spawned worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.grid_processes import run_in_processes
from tests.flows.grid_calls import act


def test_a_failing_run_stops_the_running_one_and_starts_no_queued_run(tmp_path: Path):
    """Before, the command waited on the runs in submission order: a run that failed
    while the first one trained went unnoticed for hours, and its worker went on to the
    next queued run."""
    calls = [("train", str(tmp_path)), ("fail", str(tmp_path)), ("queued", str(tmp_path))]
    with pytest.raises(RuntimeError, match="this run failed"):
        run_in_processes(act, calls, jobs=2)
    markers = sorted(path.name for path in tmp_path.iterdir())
    assert markers == ["train.started", "train.stopped"], markers


def test_a_worker_stopped_by_a_signal_starts_no_queued_run(tmp_path: Path):
    """SIGTERM to a grid reaches every worker; one whose run had stopped then took the next
    queued run and trained it for a step before it saw the stop."""
    run_in_processes(act, [("terminated", str(tmp_path)), ("queued", str(tmp_path))], jobs=1)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["terminated.stopped"]


def test_every_call_runs_when_none_fails(tmp_path: Path):
    calls = [(name, str(tmp_path)) for name in ("a", "b", "c")]
    run_in_processes(act, calls, jobs=2)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.ran", "b.ran", "c.ran"]
