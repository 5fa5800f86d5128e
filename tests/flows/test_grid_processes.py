"""``run_in_processes``: concurrent grid runs in spawned worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.grid_processes import run_in_processes
from sracl_core.errors import WorkerDied
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


def test_with_keep_going_a_failed_run_leaves_the_others_running_and_is_returned(tmp_path: Path):
    """The run beside the failure trains on until the queued run after it has run."""
    calls = [("until-after", str(tmp_path)), ("broken", str(tmp_path)), ("after", str(tmp_path))]
    failures = run_in_processes(act, calls, jobs=2, keep_going=True)
    assert list(failures) == [1]
    assert "this run is broken" in str(failures[1])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["after.ran", "until-after.ran"]


@pytest.mark.timeout(120)
def test_a_killed_worker_is_named_and_the_grid_ends_instead_of_hanging(tmp_path: Path):
    """SIGKILL to one worker (the out-of-memory killer) broke the pool, whose SIGTERM made
    the other worker stop its run and then wait for a next call forever: the command hung
    with no word of which run had died."""
    calls = [("train", str(tmp_path)), ("killed", str(tmp_path)), ("queued", str(tmp_path))]
    with pytest.raises(WorkerDied, match=r"^sracl-llm/seed-2025: its worker process died"):
        run_in_processes(act, calls, jobs=2, labels=["train", "sracl-llm/seed-2025", "queued"])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["train.started", "train.stopped"]


@pytest.mark.timeout(120)
def test_with_keep_going_a_killed_worker_fails_its_run_alone(tmp_path: Path):
    """The run it interrupted goes on in a fresh pool (where a real run resumes from its
    checkpoint), and so does the queued one; the killed run is not tried again."""
    calls = [("resumed", str(tmp_path)), ("killed", str(tmp_path)), ("after", str(tmp_path))]
    failures = run_in_processes(act, calls, jobs=2, keep_going=True)
    assert list(failures) == [1] and isinstance(failures[1], WorkerDied)
    assert str(failures[1]).startswith("call 1: its worker process died")
    assert not (tmp_path / "resumed.never-stopped").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "after.ran", "resumed.ran", "resumed.started", "resumed.stopped"]


@pytest.mark.timeout(120)
def test_an_idle_worker_killed_between_runs_is_named_and_the_grid_ends(tmp_path: Path):
    """An idle worker waits for its next call holding the call queue's read lock; killed
    there, it left the lock held, and the stopped worker beside it waited forever."""
    calls = [("kills-the-idle", str(tmp_path)), ("quick", str(tmp_path))]
    with pytest.raises(WorkerDied, match=r"died between runs .* interrupted or not started: "
                                         r"call 0 \(an interrupted run resumes"):
        run_in_processes(act, calls, jobs=2)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "kills-the-idle.killed", "kills-the-idle.stopped", "quick.pid"]


@pytest.mark.timeout(120)
def test_with_keep_going_an_idle_worker_killed_between_runs_costs_no_run(tmp_path: Path):
    calls = [("kills-the-idle", str(tmp_path)), ("quick", str(tmp_path))]
    assert run_in_processes(act, calls, jobs=2, keep_going=True) == {}
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "kills-the-idle.killed", "kills-the-idle.ran", "kills-the-idle.stopped", "quick.pid"]


def test_an_error_with_its_own_arguments_comes_back_from_a_worker_as_it_was(tmp_path: Path):
    """A DataFormatError could not be unpickled in the command: the pool broke, and the
    grid reported a worker that died between runs instead of the file and line."""
    calls = [("bad-data", str(tmp_path)), ("after", str(tmp_path))]
    failures = run_in_processes(act, calls, jobs=1, keep_going=True)
    assert str(failures[0]) == f"{tmp_path / 'interactions.txt'}:2: expected an item id, got 'x'"
    assert (tmp_path / "after.ran").exists()
