"""Free space under the cache root: checked before a command writes, named when it runs out.

A full disk fails far from its cause: the log file cannot be written, Prefect's
server answers 500 because its SQLite database cannot grow, or a Parquet write
raises ``[Errno 28]`` hours into a run. Artifacts are published by rename, so what
was cached stays whole; what the user needs is to be told that the disk is full,
where, and that a re-run after freeing space continues.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from sracl_core.errors import ConfigError

MIN_FREE_ENV = "SRACL_MIN_FREE_MB"
DEFAULT_MIN_FREE_MB = 100
"""Room for a command's log, the Prefect and MLflow databases and a small dataset's
artifacts; a big dataset needs more, which this cannot know in advance."""


def min_free_bytes() -> int:
    value = os.environ.get(MIN_FREE_ENV, str(DEFAULT_MIN_FREE_MB))
    try:
        megabytes = float(value)
    except ValueError:
        raise ConfigError(f"{MIN_FREE_ENV}: expected a number of MB, got {value!r}") from None
    return int(max(megabytes, 0.0) * 2**20)


def free_bytes(path: Path) -> int:
    """Free bytes for this user on the disk that holds ``path`` (or would hold it)."""
    existing = Path(path).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return shutil.disk_usage(existing).free


def check_free_space(root: Path, key: str = "cache_root") -> None:
    """Refuse to start on a disk with less than the minimum free (``SRACL_MIN_FREE_MB``)."""
    needed, free = min_free_bytes(), free_bytes(root)
    if free < needed:
        raise ConfigError(
            f"{key}: the disk holding {root} has {_mb(free)} free, less than the {_mb(needed)} "
            f"sracl needs to start there (its log, the Prefect and MLflow databases, the "
            f"artifacts); free some space or set {key} to another disk ({MIN_FREE_ENV}=0 "
            f"skips this check)")


def full_disk_note(error: BaseException, root: Path) -> str | None:
    """What to say when ``error`` came from a full disk: ENOSPC anywhere in its chain, or
    (an orchestrator's 500 hides its cause) the disk under ``root`` nearly full now."""
    free = free_bytes(root)
    if free >= min_free_bytes() and not _out_of_space(error):
        return None
    return (f"the disk holding {root} is full ({_mb(free)} free): free some space "
            f"and run the command again; what was cached is intact and is not computed again "
            f"(`sracl verify` checks it)")


def _out_of_space(error: BaseException | None) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        if "database or disk is full" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"
