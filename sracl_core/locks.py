"""Inter-process locks on the cache, through ``filelock`` (``flock`` on Unix).

A kernel lock dies with its process, so a lock that can be taken proves that
nobody holds it any more, whatever host or PID namespace the holder ran in:
that is the only liveness test the cache trusts. Every lock file of a dataset
lives under ``<cache_root>/<dataset>/.locks/`` so that stage folders hold
artifacts alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

LOCKS = ".locks"

log = logging.getLogger(__name__)


def new_lock(path: Path) -> FileLock:
    """A fresh lock object: never shared, so two of them in one process exclude each other
    like two processes do (threads of ``sracl experiment --jobs`` included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path)


def try_lock(path: Path) -> FileLock | None:
    """The lock, held, if nobody else holds it now; ``None`` without waiting otherwise."""
    lock = new_lock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock


@contextmanager
def waiting_lock(path: Path, what: str) -> Iterator[None]:
    """Hold ``path`` for the block, waiting for its holder if needed and saying so, since a
    run that silently sits behind another one looks hung."""
    lock = try_lock(path)
    if lock is None:
        log.info("%s: waiting for another run, which holds the lock %s", what, path)
        lock = new_lock(path)
        lock.acquire()
        log.info("%s: the other run released %s", what, path)
    try:
        yield
    finally:
        lock.release()
