"""Sizes and checksums of an artifact's files, recorded in its manifest and checked before reuse.

A cached artifact is reused only when every file its manifest lists is there
with the recorded size and checksum. A truncated or damaged copy is then found
before any stage reads it, named, and moved aside to be recomputed, instead of
failing deep inside a Parquet reader on this and every later run. Manifests
written before checksums were recorded still load: they are *unverified*, not
corrupt.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sracl_core.atomic import file_digest
from sracl_core.errors import ArtifactCorrupt

MANIFEST = "manifest.json"
CHECKSUM = "blake2b"
CORRUPT = ".corrupt"
_CHUNK = 1 << 20

State = Literal["missing", "cached", "unverified", "corrupt"]


def digest(path: Path) -> str:
    """blake2b from the standard library: fast enough to check a cache on every run."""
    return file_digest(path, CHECKSUM, digest_size=16)


def file_records(folder: Path, skip: Collection[str] = ()) -> dict[str, dict[str, Any]]:
    """``{relative path: {"bytes", "blake2b"}}`` for every file under ``folder`` not in
    ``skip`` (the writer's bookkeeping, which does not travel with the artifact)."""
    records = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name not in skip:
            records[name] = {"bytes": path.stat().st_size, CHECKSUM: digest(path)}
    return records


SEAL = "checksums.json"
"""The file list of a folder that is not an artifact (a run's resume state or best model)."""


def seal(folder: Path) -> None:
    """Record the size and checksum of every file in ``folder`` in its ``checksums.json``:
    resume state travels between machines in bundles, and a copy damaged on the way would
    otherwise resume silently and publish wrong numbers under the right fingerprint."""
    (folder / SEAL).write_text(json.dumps(file_records(folder, skip={SEAL}), indent=2))


def seal_problem(folder: Path) -> str | None:
    """The first file of a sealed folder that no longer matches its record; None when all
    match, or when the folder predates seals (then its files are used unchecked)."""
    path = folder / SEAL
    if not path.is_file():
        return None
    try:
        for name, record in json.loads(path.read_text()).items():
            problem = _file_problem(folder / name, record, SEAL)
            if problem is not None:
                return f"{folder / name}: {problem}"
    except (OSError, ValueError, AttributeError, KeyError, TypeError) as error:
        return f"{path}: not a readable list of checksums ({error!r})"
    return None


@dataclass(frozen=True)
class Verdict:
    """What a cached artifact is worth; ``problem`` names the file and what is wrong."""

    state: State
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.state in ("cached", "unverified")


def check_folder(folder: Path) -> Verdict:
    """Check an artifact folder against its manifest: every listed file, size then checksum."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return Verdict("missing")
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest.get("files")
    except (OSError, ValueError, AttributeError) as error:
        return Verdict("corrupt", f"{manifest_path}: not a readable manifest ({error})")
    problem = _shape_problem(manifest)
    if problem is not None:
        return Verdict("corrupt", f"{manifest_path}: {problem}")
    if files is None:
        return Verdict("unverified", f"{manifest_path} records no checksums (an older sracl "
                                     "wrote it); its files are used unchecked")
    try:
        for name, record in files.items():
            problem = _file_problem(folder / name, record)
            if problem is not None:
                return Verdict("corrupt", f"{folder / name}: {problem}")
    except (AttributeError, KeyError, TypeError) as error:
        return Verdict("corrupt", f"{manifest_path}: malformed file list ({error!r})")
    return Verdict("cached")


def file_in_the_way(folder: Path) -> Path | None:
    """The nearest existing path at or above ``folder``, when it is a file and not a folder:
    a stage or dataset folder replaced by a file reads as missing, then fails its write."""
    for path in (folder, *folder.parents):
        if path.exists():
            return None if path.is_dir() else path
    return None


def identity_problem(folder: Path, stage: str, fingerprint: str, dataset: str) -> str | None:
    """Whether the manifest in ``folder`` says it is that artifact: a folder renamed (or a
    bundle edited) to pass for another config's artifact would otherwise be trusted by
    every later check, and a run would report another config's results as its own."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        found = {key: manifest.get(key) for key in ("dataset", "stage", "fingerprint")}
    except (OSError, ValueError, AttributeError) as error:
        return f"{folder / MANIFEST}: not a readable manifest ({error})"
    expected = {"dataset": dataset, "stage": stage, "fingerprint": fingerprint}
    wrong = [f"{key} {found[key]!r} (expected {value!r})" for key, value in expected.items()
             if found[key] != value]
    if wrong:
        return f"{folder / MANIFEST}: the manifest is of another artifact: {', '.join(wrong)}"
    return None


def _shape_problem(manifest: dict[str, Any]) -> str | None:
    """What a manifest lacks that every sracl manifest has: its stats (which later stages and
    the preflight read) and, when it lists checksums, a file for each of its tables (an
    empty file list would vouch for nothing and pass)."""
    if not isinstance(manifest.get("stats"), dict):
        return "not a manifest sracl wrote (it has no 'stats' object)"
    files, tables = manifest.get("files"), manifest.get("tables") or {}
    if files is not None:
        unlisted = sorted(name for name in tables if f"{name}.parquet" not in files)
        if unlisted or not files:
            return (f"its file list leaves out {', '.join(unlisted) or 'every file'} "
                    "(a manifest sracl wrote lists each file with its checksum)")
    return None


def _file_problem(path: Path, record: dict[str, Any], listed_in: str = "the manifest"
                  ) -> str | None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return f"missing, though {listed_in} lists it"
    if size != record["bytes"]:
        return f"{size} bytes where {listed_in} recorded {record['bytes']} (truncated or changed)"
    if digest(path) != record[CHECKSUM]:
        return f"its content does not match the {CHECKSUM} checksum in {listed_in}"
    return None


def move_aside(folder: Path) -> Path:
    """Move a damaged artifact to ``<stage>/.corrupt/<fingerprint>-<UTC time>`` (kept for a
    post-mortem, out of the way of the recomputed one); returns where it went."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder.parent / CORRUPT / f"{folder.name}-{stamp}"
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = 1
    while target.exists():
        suffix += 1
        target = target.with_name(f"{folder.name}-{stamp}-{suffix}")
    os.rename(folder, target)
    return target


def cache_artifacts(root: Path, stages: Iterable[str]) -> Iterator[Path]:
    """Every artifact folder (one with a manifest) of these stages, over all datasets."""
    wanted = tuple(stages)
    for dataset in sorted(path for path in Path(root).iterdir() if path.is_dir()):
        for stage in wanted:
            stage_dir = dataset / stage
            if stage_dir.is_dir():
                yield from sorted(path for path in stage_dir.iterdir()
                                  if not path.name.startswith(".") and (path / MANIFEST).exists())


def recompute_hint(folder: Path) -> str:
    """What to do when a read finds damage the manifest check did not (a manifest from
    before checksums): `sracl run` trusts such an artifact, so it must go first."""
    return (f"the cached artifact {folder} is damaged: move it aside (or delete it) and "
            "`sracl run` computes it again; `sracl verify` checks the whole cache")


def unreadable_parquet(path: Path, error: Exception) -> ArtifactCorrupt:
    """The error for a table file its reader cannot read (polars whole, pyarrow in batches),
    naming the file, the reader's first line and what to do."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    return ArtifactCorrupt(f"{path}: unreadable Parquet ({reason}); {recompute_hint(path.parent)}")
