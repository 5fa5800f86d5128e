"""Where a loaded table's rows sit in their file, so errors name a line a user can open.

Polars numbers rows from 0 after the header; a user's editor numbers lines from
1 with the header on line 1, and a quoted field may span lines. Errors are rare,
so the exact line is found only when one is raised, by re-reading the file with
:mod:`csv`, which splits rows the way Polars does (blank lines count as rows).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sracl_core.data.readers.lines import open_text
from sracl_core.errors import DataFormatError


@dataclass(frozen=True)
class TableRows:
    """The file behind a table; ``separator`` is None for Parquet, which has no lines."""

    path: Path
    separator: str | None

    def line_of(self, index: int) -> int:
        """The 1-based line on which the 0-based data row ``index`` starts."""
        if self.separator is None:
            raise ValueError(f"{self.path} is Parquet: its rows have no line numbers")
        for row_index, start, _ in _rows_with_lines(self.path, self.separator):
            if row_index == index:
                return start
        return index + 2  # past the end (cannot happen for a row polars read)

    def error(self, expected: str, index: int, got: str | None = None) -> DataFormatError:
        """A :class:`DataFormatError` naming the row's line (or its 1-based row in Parquet)."""
        if self.separator is None:
            return DataFormatError(self.path, expected, row=index + 1, got=got)
        return DataFormatError(self.path, expected, line=self.line_of(index), got=got)


def raise_ragged_row(path: Path, separator: str) -> None:
    """Raise for the first row whose field count differs from the header's, if any."""
    with open_text(path) as handle:
        header = next(csv.reader(handle, delimiter=separator), None)
    if header is None:
        raise DataFormatError(path, "a header row", got="an empty file")
    for _, start, row in _rows_with_lines(path, separator):
        if row and len(row) != len(header):
            raise DataFormatError(
                path, f"{len(header)} {separator!r}-separated fields like the header",
                line=start, got=separator.join(row),
            )


def _rows_with_lines(path: Path, separator: str) -> Iterator[tuple[int, int, list[str]]]:
    """``(row index, first line, fields)`` for each data row after the header."""
    with open_text(path) as handle:
        rows = csv.reader(handle, delimiter=separator)
        if next(rows, None) is None:
            return
        index = 0
        while True:
            start = rows.line_num + 1
            row = next(rows, None)
            if row is None:
                return
            yield index, start, row
            index += 1
