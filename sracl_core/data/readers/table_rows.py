"""Where a loaded table's rows sit in their file, so errors name a line a user can open.

Polars numbers rows from 0 after the header; a user's editor numbers lines from
1 with the header on line 1, and a quoted field may span lines. Errors are rare,
so the exact line is found only when one is raised, by re-reading the file with
:mod:`csv`, which splits rows the way Polars does (blank lines count as rows).

Where the two differ is a quote inside a field that does not start with one (an inch
mark in a title): :mod:`csv` keeps it as text, Polars pairs it with the next quote,
possibly lines later. :func:`raise_quote_fault` finds such a quote by the rules Polars
applies, so the error names its line and the ``data.source.quote`` setting.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sracl_core.data.readers.lines import open_text
from sracl_core.errors import DataFormatError


@dataclass(frozen=True)
class TableRows:
    """The file behind a table; ``separator`` is None for Parquet, which has no lines;
    ``quote`` None is a file without quoting."""

    path: Path
    separator: str | None
    quote: str | None = '"'

    def line_of(self, index: int) -> int:
        """The 1-based line on which the 0-based data row ``index`` starts."""
        if self.separator is None:
            raise ValueError(f"{self.path} is Parquet: its rows have no line numbers")
        for row_index, start, _ in _rows_with_lines(self.path, self.separator, self.quote):
            if row_index == index:
                return start
        return index + 2  # past the end (cannot happen for a row polars read)

    def error(self, expected: str, index: int, got: str | None = None) -> DataFormatError:
        """A :class:`DataFormatError` naming the row's line (or its 1-based row in Parquet)."""
        if self.separator is None:
            return DataFormatError(self.path, expected, row=index + 1, got=got)
        return DataFormatError(self.path, expected, line=self.line_of(index), got=got)


def raise_ragged_row(path: Path, separator: str, quote: str | None = '"') -> None:
    """Raise for the first row whose field count differs from the header's, if any."""
    with open_text(path) as handle:
        header = next(_reader(handle, separator, quote), None)
    if header is None:
        raise DataFormatError(path, "a header row", got="an empty file")
    for _, start, row in _rows_with_lines(path, separator, quote):
        if row and len(row) != len(header):
            raise DataFormatError(
                path, f"{len(header)} {separator!r}-separated fields like the header",
                line=start, got=separator.join(row),
            )


def raise_quote_fault(path: Path, separator: str, quote: str) -> None:
    """Raise for the first quote a CSV parser cannot pair, naming its line.

    RFC 4180 as Polars reads it: a field that starts with the quote runs to the next lone
    quote (a doubled one is a quote inside it, newlines included); a quote anywhere else
    in a field, or text between a closing quote and the next separator, is malformed.
    """
    expected = (f"fields quoted as CSV quotes them: a field holding {quote} starts and "
                f"ends with it and doubles it inside (for a file without quoting set "
                f"data.source.quote: null)")
    state, opened_on = _FIELD_START, 0
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if state != _QUOTED and quote not in line:
                continue
            for char in line:
                if state == _QUOTED:
                    state = _CLOSED if char == quote else _QUOTED
                elif char == quote:
                    if state == _PLAIN:
                        raise DataFormatError(path, expected, line=number, got=line.rstrip())
                    if state == _FIELD_START:
                        opened_on = number
                    state = _QUOTED  # opens a field, or is a doubled quote inside one
                elif char in (separator, "\n", "\r"):
                    state = _FIELD_START
                elif state == _CLOSED:
                    raise DataFormatError(path, expected, line=number, got=line.rstrip())
                else:
                    state = _PLAIN
    if state == _QUOTED:
        raise DataFormatError(path, expected, line=opened_on,
                              got="a quoted field that never closes")


_FIELD_START, _PLAIN, _QUOTED, _CLOSED = range(4)


def _reader(handle: TextIO, separator: str, quote: str | None) -> Any:
    """A :func:`csv.reader` (its ``line_num`` counts physical lines)."""
    if quote is None:
        return csv.reader(handle, delimiter=separator, quoting=csv.QUOTE_NONE)
    return csv.reader(handle, delimiter=separator, quotechar=quote)


def _rows_with_lines(path: Path, separator: str,
                     quote: str | None) -> Iterator[tuple[int, int, list[str]]]:
    """``(row index, first line, fields)`` for each data row after the header."""
    with open_text(path) as handle:
        rows = _reader(handle, separator, quote)
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
