"""Files and folders written whole or not at all, and stable digests of JSON-able values.

Everything sracl writes outside an artifact folder (run records, experiment tables,
response-cache parts, checksums) goes through :func:`replacing`, and every folder
rewritten in place (checkpoints, models, prepared embedded models) through
:func:`replacing_folder`: the content goes to a unique temporary sibling, which
takes the name in one rename once complete. A reader never sees half a file, two
writers never share a temporary, and a failed write leaves the old version as it
was. Stage artifacts are published by :mod:`sracl_core.artifacts`, which adds
locks, owners and checksums to the same rename.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TEMPORARY_PREFIX = ".tmp-"


def _process_umask() -> int:
    """Read once at import: setting it to read it is not thread-safe."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _process_umask()
"""``mkstemp`` and ``mkdtemp`` create private (0600 / 0700) paths; what they become is
given the permissions any other file or folder gets, so a cache shared between users
(a container volume) stays readable."""


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A fresh temporary path beside ``path`` to write; it becomes ``path`` when the block
    ends without an error, and is removed when it raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMPORARY_PREFIX}{path.name}.")
    os.close(handle)
    os.chmod(name, 0o666 & ~_UMASK)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def replacing_folder(target: Path) -> Iterator[Path]:
    """A fresh temporary folder beside ``target`` to fill; it becomes ``target`` when the
    block ends without an error (the old version is renamed ``<name>.old`` for the
    moment of the swap, so :func:`complete_folder` finds one whole version even after a
    kill between the two renames), and is removed when it raises."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=target.parent,
                                      prefix=f"{TEMPORARY_PREFIX}{target.name}."))
    os.chmod(temporary, 0o777 & ~_UMASK)
    try:
        yield temporary
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    old = target.with_name(target.name + ".old")
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(temporary, target)
    shutil.rmtree(old, ignore_errors=True)


def complete_folder(target: Path) -> Path | None:
    """``target`` if it exists, else the previous version a kill mid-swap left behind."""
    for candidate in (target, target.with_name(target.name + ".old")):
        if candidate.is_dir():
            return candidate
    return None


def write_text(path: Path, text: str) -> Path:
    """``path`` holds ``text`` (UTF-8), written atomically."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


def json_digest(value: Any, *, ascii_only: bool = True) -> str:
    """sha256 of ``value`` as compact JSON with sorted keys: equal values, equal digests.

    Non-JSON values (paths, dates) are written with ``str``. ``ascii_only`` is JSON's
    ``ensure_ascii``; the two settings give different digests of non-ASCII text, and
    each caller keeps the one its stored digests were made with.
    """
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str,
                      ensure_ascii=ascii_only)
    return hashlib.sha256(blob.encode()).hexdigest()


def file_digest(path: Path, algorithm: str = "sha256", **options: Any) -> str:
    """Hex digest of a file's bytes, read in 1 MiB chunks (``options``: e.g. digest_size)."""
    hasher = hashlib.new(algorithm, **options)
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()
