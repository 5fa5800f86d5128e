"""The tables a stage declares it writes, and the writer that holds it to them.

Every stage's :class:`~sracl_core.stages.stage.Stage` names its output tables
with their columns and types. The runner hands the stage a :class:`CheckedWriter`:
a table the stage did not declare, a column of another type, or a declared table
left unwritten fails the stage before anything is published, naming the stage,
the table and the column. Downstream stages, tracking and readers can therefore
trust a cached artifact's shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from sracl_core.artifacts import StageWriter
from sracl_core.errors import SraclError

FLOAT64 = pl.Float64()


class UndeclaredOutput(SraclError):
    """A stage wrote a table, or a column, that its declaration does not have."""


@dataclass(frozen=True)
class Table:
    """One output table: its fixed columns and their types.

    ``prefixes`` admits families of columns that depend on the config (the train
    stage's ``loss/<part>`` and ``valid/<metric>``), each of type ``prefix_type``.
    An ``Array`` column matches any width (the embedding size is the encoder's).
    ``optional`` tables are written for some configs only.
    """

    columns: Mapping[str, pl.DataType]
    prefixes: tuple[str, ...] = ()
    prefix_type: pl.DataType = FLOAT64
    optional: bool = False

    def problems(self, schema: Mapping[str, pl.DataType]) -> list[str]:
        found = [f"column {name!r} is missing" for name in self.columns if name not in schema]
        for name, dtype in schema.items():
            expected = self.columns.get(name)
            if expected is None and self.prefixes and name.startswith(self.prefixes):
                expected = self.prefix_type
            if expected is None:
                found.append(f"column {name!r} is not declared")
            elif not _same_type(expected, dtype):
                found.append(f"column {name!r} is {dtype}, declared {expected}")
        return found


def _same_type(expected: pl.DataType, actual: pl.DataType) -> bool:
    if isinstance(expected, pl.Array):
        return isinstance(actual, pl.Array) and actual.inner == expected.inner
    return actual == expected


class CheckedWriter:
    """A stage's writer that accepts only the declared tables, in their declared shape."""

    def __init__(self, stage: str, tables: Mapping[str, Table], writer: StageWriter) -> None:
        self.stage, self.tables, self._writer = stage, tables, writer

    @property
    def stats(self) -> dict[str, Any]:
        return self._writer.stats

    def path(self, name: str) -> Path:
        return self._writer.path(name)

    def write_table(self, name: str, table: pl.DataFrame) -> Path:
        if name not in self.tables:
            raise UndeclaredOutput(f"{self.stage}: table {name!r} is not declared (declared: "
                                   f"{', '.join(sorted(self.tables))})")
        problems = self.tables[name].problems(table.schema)
        if problems:
            raise UndeclaredOutput(f"{self.stage}: table {name!r}: {'; '.join(problems)}")
        return self._writer.write_table(name, table)

    def check_complete(self) -> None:
        """Every table the declaration requires was written (called before publishing)."""
        missing = [name for name, table in self.tables.items()
                   if not table.optional and name not in self._writer.row_counts]
        if missing:
            raise UndeclaredOutput(f"{self.stage}: declared tables not written: "
                                   f"{', '.join(missing)}")
