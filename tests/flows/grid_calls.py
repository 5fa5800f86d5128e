"""Calls for the ``run_in_processes`` tests: top-level functions a spawned worker imports.

Each call leaves a marker file in ``folder`` saying what it did.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from sracl_core.stopping import stop_requested

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


def act(kind: str, folder: str) -> None:
    """``train``: run until the grid asks to stop (``train.stopped``); ``fail``: raise once
    ``train`` has started; ``terminated``: SIGTERM to its own worker, which then ends the
    call as a stopped training run does; anything else: just leave ``<kind>.ran``."""
    path = Path(folder)
    if kind == "train":
        (path / "train.started").touch()
        if _wait_for(stop_requested, path / "train.never-stopped"):
            (path / "train.stopped").touch()
    elif kind == "fail":
        if _wait_for((path / "train.started").exists, path / "fail.never-saw-train"):
            raise RuntimeError("this run failed")
    elif kind == "terminated":
        os.kill(os.getpid(), signal.SIGTERM)
        if _wait_for(stop_requested, path / "terminated.never-stopped"):
            (path / "terminated.stopped").touch()
    else:
        (path / f"{kind}.ran").touch()
