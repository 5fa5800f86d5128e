"""A config's stage artifacts, found and read one way: fingerprints, then the store.

Stages (their inputs), MLflow tracking, serving, the neighbour lists and the CLI
all reach an artifact through :class:`StageOutputs` (made for a config by
:func:`sracl_core.stages.graph.outputs_of`), so where an artifact lives and what
a missing one says are written once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from sracl_core.artifact_integrity import unreadable_parquet
from sracl_core.artifacts import ArtifactStore
from sracl_core.errors import ArtifactCorrupt, SraclError
from sracl_core.stages.tables import UndeclaredOutput


@dataclass(frozen=True)
class StageOutputs:
    """The artifacts of one config: each stage's at that config's fingerprint.

    ``declared`` holds each stage's declared table names: reading a table the stage
    does not declare is a programming error, reported as such rather than as a
    missing file.
    """

    store: ArtifactStore
    fingerprints: Mapping[str, str]
    declared: Mapping[str, Collection[str]] = field(default_factory=dict)

    def fingerprint(self, stage: str) -> str:
        return self.fingerprints[stage]

    def path(self, stage: str) -> Path:
        return self.store.path(stage, self.fingerprints[stage])

    def is_complete(self, stage: str) -> bool:
        return self.store.is_complete(stage, self.fingerprints[stage])

    def require(self, stage: str, what: str, command: str = "sracl run") -> None:
        """Fail with what to run when ``stage`` has no artifact for this config yet."""
        if not self.is_complete(stage):
            raise SraclError(f"no {what} for this config yet ({stage} "
                             f"{self.fingerprints[stage]}); run `{command}` with this config "
                             "(and the same --set overrides) first")
        verdict = self.store.check(stage, self.fingerprints[stage])
        if not verdict.usable:  # a model file is read whole: check it before it is loaded
            raise ArtifactCorrupt(f"{verdict.problem}; `{command}` with this config moves the "
                                  "damaged artifact aside and computes it again")

    def table(self, stage: str, name: str) -> pl.DataFrame:
        """A table the stage wrote; a missing or damaged one raises, naming the file."""
        self._check_declared(stage, name)
        return self.store.read_table(stage, self.fingerprints[stage], name)

    def table_batches(self, stage: str, name: str, columns: list[str],
                      rows_per_batch: int = 8192) -> Iterator[pa.RecordBatch]:
        """The table's ``columns``, a batch of rows at a time: for a table too large to hold
        twice while it is turned into something else (a prefix-level embedding matrix)."""
        self._check_declared(stage, name)
        path = self.store.table_path(stage, self.fingerprints[stage], name)
        try:
            yield from pq.ParquetFile(path).iter_batches(batch_size=rows_per_batch,
                                                         columns=columns)
        except (pa.ArrowException, OSError) as error:
            raise unreadable_parquet(path, error) from None

    def table_if_written(self, stage: str, name: str) -> pl.DataFrame | None:
        """The table, or None when the stage has no artifact or did not write it."""
        self._check_declared(stage, name)
        if not self.is_complete(stage) or not (self.path(stage) / f"{name}.parquet").is_file():
            return None
        return self.table(stage, name)

    def manifest(self, stage: str) -> dict[str, Any] | None:
        """The stage's manifest (its config, inputs, stats), or None without an artifact."""
        if not self.is_complete(stage):
            return None
        return self.store.manifest(stage, self.fingerprints[stage])

    def stage_folder(self, stage: str) -> Path:
        """The folder of all of a stage's artifacts (and of work kept between its runs)."""
        return self.store.root / self.store.dataset / stage

    def _check_declared(self, stage: str, name: str) -> None:
        tables = self.declared.get(stage)
        if tables is not None and name not in tables:
            raise UndeclaredOutput(f"{stage} declares no table {name!r} (it writes: "
                                   f"{', '.join(sorted(tables))})")
