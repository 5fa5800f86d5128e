"""Folders that name their owner, so clean-up deletes only provably abandoned ones.

A writer's temporary artifact folder, or a training run's checkpoint folder,
holds an owner record (:data:`OWNER_FILE`: host identity, PID, a random token,
creation time) and its writer holds a lock for the folder's whole life. Another
process removes or adopts the folder only when the record is there (sracl made
the folder) and the lock can be taken (its writer is gone). A PID alone is never
trusted: in another PID namespace (a container sharing the cache volume) or on
another host it names some other process, or none, here.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from sracl_core.locks import new_lock, try_lock

OWNER_FILE = ".sracl-owner.json"
_FORMAT = "sracl-owned-folder/1"

log = logging.getLogger(__name__)


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


@functools.cache
def host_identity() -> dict[str, str]:
    """Where a recorded PID means something: the machine, its boot and the PID namespace."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return {"host": _read("/etc/machine-id") or socket.gethostname(),
            "boot": _read("/proc/sys/kernel/random/boot_id"), "pid_namespace": namespace}


def owner_record(folder: Path) -> dict[str, Any] | None:
    """The folder's owner record, or ``None`` when sracl did not make it (or not this way)."""
    try:
        record = json.loads((folder / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == _FORMAT else None


@dataclass
class OwnedFolder:
    """A folder together with the lock that says its owner is alive."""

    path: Path
    lock: FileLock

    def disown(self) -> None:
        """Drop the owner record before the folder becomes something else (an artifact)."""
        (self.path / OWNER_FILE).unlink(missing_ok=True)

    def release(self) -> None:
        """Let the folder be adopted or removed by the next process that finds it."""
        self.lock.release()

    def remove(self) -> None:
        """Delete the folder, then its lock file, while still holding the lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        Path(self.lock.lock_file).unlink(missing_ok=True)
        self.lock.release()


def lock_path(folder: Path, locks_dir: Path) -> Path:
    return locks_dir / f"{folder.name}.lock"


def create(folder: Path, locks_dir: Path) -> OwnedFolder:
    """Take the folder's lock, then make it with our owner record (``folder`` is unique)."""
    lock = new_lock(lock_path(folder, locks_dir))
    lock.acquire()
    try:
        folder.mkdir(parents=True)
        _write_record(folder)
    except BaseException:
        lock.release()
        raise
    return OwnedFolder(folder, lock)


def claim(folder: Path, locks_dir: Path) -> OwnedFolder | None:
    """The folder with its lock held, if sracl made it and its writer is provably gone."""
    record = owner_record(folder)
    if record is None or _owner_may_be_alive(record):
        return None
    lock = try_lock(lock_path(folder, locks_dir))
    if lock is None:
        return None
    if owner_record(folder) is None:  # published or removed while we took the lock
        Path(lock.lock_file).unlink(missing_ok=True)
        lock.release()
        return None
    _write_record(folder)
    return OwnedFolder(folder, lock)


def remove_abandoned(parent: Path, pattern: str, locks_dir: Path,
                     why: str = "left by a run that ended without finishing") -> None:
    """Delete the folders matching ``pattern`` whose writers are gone; leave all others.
    ``why`` goes in the log line (a finished run's checkpoints are not a failure's)."""
    for candidate in sorted(parent.glob(pattern)):
        abandoned = claim(candidate, locks_dir) if candidate.is_dir() else None
        if abandoned is not None:
            log.info("removing %s, %s", candidate, why)
            abandoned.remove()


def _write_record(folder: Path) -> None:
    record = {"format": _FORMAT, "identity": host_identity(), "pid": os.getpid(),
              "token": secrets.token_hex(8),
              "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
    (folder / OWNER_FILE).write_text(json.dumps(record, indent=2))


def _owner_may_be_alive(record: dict[str, Any]) -> bool:
    """Extra caution for a PID from our own namespace that is alive and not us: it may be a
    writer whose lock file was lost, so its folder is kept (the lock decides all else)."""
    pid = record.get("pid")
    if record.get("identity") != host_identity() or not isinstance(pid, int):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
