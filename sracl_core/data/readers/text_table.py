"""Reading delimited text tables with errors that point at the offending line.

The table is split here, line by line, rather than by a CSV parser: quoting is off
(titles keep their quotes), so a row is exactly its line split on the separator, and
every row keeps its line number for later errors (a price, an id). Lines come through
:func:`~sracl_core.data.readers.lines.numbered_lines`, so a gzipped table works, an
undecodable byte is reported on its own line, and a UTF-8 byte-order mark is dropped.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sracl_core.data.readers import lines
from sracl_core.data.readers.files import no_rows, require_file
from sracl_core.errors import DataFormatError

LINE_COLUMN = "__line"
"""With ``with_lines``, the column holding each row's 1-based line in the file."""


def read_text_table(path: Path, separator: str, what: str = "the table", *,
                    with_lines: bool = False) -> pl.DataFrame:
    """A headed table as strings, empty fields as null, blank lines skipped.

    Rows with the wrong number of fields, a header with a repeated name and line
    endings of a lone carriage return are each reported by line.
    """
    require_file(path, what)
    numbered = lines.numbered_lines(path, what, encoding="utf-8-sig", empty_is_error=False)
    first = next(numbered, None)
    if first is None:
        raise DataFormatError(path, "a header line", line=1, got="an empty or blank file")
    header_line, header_text = first
    if "\r" in header_text:
        raise DataFormatError(path, "lines that end in \\n or \\r\\n", line=header_line,
                              got="lines that end in a lone \\r (old Mac line endings)")
    header = header_text.split(separator)
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataFormatError(path, "a header whose column names differ", line=header_line,
                              got=f"{', '.join(map(repr, repeated))} more than once")
    columns: list[list[str | None]] = [[] for _ in header]
    line_numbers: list[int] = []
    for line_number, line in numbered:
        fields = line.split(separator)
        if len(fields) != len(header):
            raise DataFormatError(
                path, f"{len(header)} {separator!r}-separated fields like the header",
                line=line_number, got=line,
            )
        for column, value in zip(columns, fields, strict=True):
            column.append(value or None)
        line_numbers.append(line_number)
    if not line_numbers:
        raise no_rows(path, "header", what)
    table = pl.DataFrame({name: pl.Series(name, column, dtype=pl.String)
                          for name, column in zip(header, columns, strict=True)})
    if with_lines:
        table = table.with_columns(pl.Series(LINE_COLUMN, line_numbers, dtype=pl.Int64))
    return table
