"""Cache locks between real processes: held, waited for with a message, freed by death."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from sracl_core.locks import try_lock, waiting_lock

HOLD = ("import pathlib, sys, time\nfrom sracl_core.locks import try_lock\n"
        "lock = try_lock(pathlib.Path(sys.argv[1]))\n"
        "print('held' if lock else 'busy', flush=True)\ntime.sleep(float(sys.argv[2]))\n"
        "pathlib.Path(sys.argv[1] + '.done').touch()\n")
"""Holds the lock for a while, then leaves a marker just before exiting (which frees it)."""


def _holder(path: Path, seconds: float) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_lock_held_by_another_process_cannot_be_taken_until_it_dies(tmp_path: Path) -> None:
    path = tmp_path / ".locks" / "train" / "f.lock"
    holder = _holder(path, 60)
    try:
        assert try_lock(path) is None
        holder.kill()  # kill -9: no clean-up runs, the kernel drops the lock
        holder.wait()
        lock = try_lock(path)
        assert lock is not None
        lock.release()
    finally:
        holder.kill()


def test_a_waiting_run_says_what_it_waits_for_and_goes_on_when_freed(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "stage.lock"
    holder = _holder(path, 1.5)
    with caplog.at_level(logging.INFO, logger="sracl_core.locks"), waiting_lock(path, "train"):
        assert Path(f"{path}.done").exists()  # entered only once the holder was leaving
        assert try_lock(path) is None  # held by this block now
    holder.wait()
    assert f"train: waiting for another run, which holds the lock {path}" in caplog.text
    assert f"train: the other run released {path}" in caplog.text
    lock = try_lock(path)
    assert lock is not None  # released when the block ended
    lock.release()
