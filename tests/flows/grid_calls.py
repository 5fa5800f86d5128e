"""Calls for the ``run_in_processes`` tests: top-level functions a spawned worker imports.

Each call leaves a marker file in ``folder`` saying what it did.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from sracl_core.errors import DataFormatError
from sracl_core.stopping import StopRequested, stop_requested

FUSE_SECONDS = 60.0
"""A safety fuse: a call waiting for something that never comes gives up and says so."""


def _wait_for(condition, marker: Path) -> bool:
    deadline = time.monotonic() + FUSE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            marker.touch()
            return False
        time.sleep(0.05)
    return True


def _train_until_stopped(path: Path, kind: str) -> None:
    """What a training run does when the grid stops it: the step ends, then StopRequested."""
    if _wait_for(stop_requested, path / f"{kind}.never-stopped"):
        (path / f"{kind}.stopped").touch()
        raise StopRequested("stopped after its step")


def act(kind: str, folder: str) -> None:
    """``train``: run until the grid asks to stop (``train.stopped``); ``fail``: raise once
    ``train`` has started; ``terminated``: SIGTERM to its own worker, which then ends the
    call as a stopped training run does; ``killed``: SIGKILL to its own worker once
    ``train`` has started (as the out-of-memory killer does); ``resumed``: ``train`` that
    leaves ``resumed.ran`` instead when it is called again after a stop; ``quick``: leave
    its worker's pid in ``quick.pid``; ``kills-the-idle``: SIGKILL the ``quick`` call's
    worker once it is idle, then train (called again: just leave ``kills-the-idle.ran``);
    ``until-X``: wait for ``X.ran``, then leave ``until-X.ran``; ``broken``: raise at once;
    ``bad-data``: raise a DataFormatError; anything else: just leave ``<kind>.ran``.
    ``train`` raises StopRequested once stopped, as a real training run does."""
    path = Path(folder)
    if kind == "resumed" and (path / "resumed.stopped").exists():
        (path / "resumed.ran").touch()
    elif kind in ("train", "resumed"):
        (path / f"{kind}.started").touch()
        _train_until_stopped(path, kind)
    elif kind == "killed":
        if _wait_for(lambda: any(path.glob("*.started")), path / "killed.never-saw-train"):
            os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "kills-the-idle" and (path / "kills-the-idle.killed").exists():
        (path / "kills-the-idle.ran").touch()
    elif kind == "kills-the-idle":
        if _wait_for((path / "quick.pid").exists, path / "kills-the-idle.never-saw-quick"):
            time.sleep(1.5)  # the quick call's worker is idle by now, waiting for a call
            os.kill(int((path / "quick.pid").read_text()), signal.SIGKILL)
            (path / "kills-the-idle.killed").touch()
            _train_until_stopped(path, kind)
    elif kind == "quick":
        (path / "quick.pid").write_text(str(os.getpid()))
    elif kind.startswith("until-"):
        if _wait_for((path / f"{kind[6:]}.ran").exists, path / f"{kind}.never-saw-it"):
            (path / f"{kind}.ran").touch()
    elif kind == "fail":
        if _wait_for((path / "train.started").exists, path / "fail.never-saw-train"):
            raise RuntimeError("this run failed")
    elif kind == "broken":
        raise RuntimeError("this run is broken")
    elif kind == "bad-data":
        raise DataFormatError(path / "interactions.txt", "an item id", line=2, got="x")
    elif kind == "terminated":
        os.kill(os.getpid(), signal.SIGTERM)
        if _wait_for(stop_requested, path / "terminated.never-stopped"):
            (path / "terminated.stopped").touch()
    else:
        (path / f"{kind}.ran").touch()
