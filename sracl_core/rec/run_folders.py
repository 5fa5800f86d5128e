"""One checkpoint folder per training run, adopted by a later run once its owner is gone.

Two runs of one train fingerprint writing one ``last`` folder overwrite each
other's ``last.tmp``/``last.old`` mid-swap and can resume from a mix of both.
So each run owns ``.checkpoints/<fingerprint>/run-<pid>-<token>/`` (an owned
folder, :mod:`sracl_core.owned_folders`) while it trains. A new run resumes from
a folder whose run is provably gone (killed: its lock is free), so a kill -9
still resumes; a folder whose run is alive is never touched.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sracl_core import owned_folders
from sracl_core.owned_folders import OwnedFolder

RUN_PREFIX = "run-"
LAST = "last"
"""A run folder's resume state (weights, optimizer, RNG, progress), rewritten as it trains."""
BEST = "best"
"""A run folder's best model so far, the one the run publishes."""
CHECKPOINTS = ".checkpoints"
"""Where the run folders of one stage live: ``<stage folder>/.checkpoints/<fingerprint>/``."""

log = logging.getLogger(__name__)


@contextmanager
def run_folder(root: Path, locks_dir: Path) -> Iterator[Path]:
    """This run's checkpoint folder under ``root`` (one fingerprint's): an abandoned one
    to resume from, else a new one. Held until the block ends."""
    folder = _adopt(root, locks_dir)
    if folder is None:
        folder = owned_folders.create(root / f"{RUN_PREFIX}{os.getpid()}-{secrets.token_hex(4)}",
                                      locks_dir)
    try:
        yield folder.path
    finally:
        folder.release()


def remove_finished(root: Path, locks_dir: Path) -> None:
    """Delete the checkpoints of a fingerprint whose artifact is published, except those of
    a run still going (a ``--force`` run of it); leftovers of the old one-folder layout too."""
    owned_folders.remove_abandoned(root, f"{RUN_PREFIX}*", locks_dir,
                                   why="the checkpoints of a run whose model is published")
    with suppress(FileNotFoundError):  # another run removed it meanwhile
        for legacy in root.iterdir():
            if not legacy.name.startswith(RUN_PREFIX):
                shutil.rmtree(legacy, ignore_errors=True)
    with suppress(OSError):  # not empty: a live run's folder is still there
        root.rmdir()


def _adopt(root: Path, locks_dir: Path) -> OwnedFolder | None:
    """The abandoned run folder that was written last (the furthest resume state)."""
    if not root.is_dir():
        return None
    candidates = sorted(root.glob(f"{RUN_PREFIX}*"), key=last_written, reverse=True)
    for candidate in candidates:
        claimed = owned_folders.claim(candidate, locks_dir)
        if claimed is not None:
            log.info("train: resuming from %s, left by a run that ended without finishing",
                     candidate)
            return claimed
    return None


def last_written(folder: Path) -> float:
    try:
        return max(path.stat().st_mtime for path in (folder, *folder.iterdir()))
    except OSError:
        return 0.0
