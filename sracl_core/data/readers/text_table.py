"""Reading delimited text tables with errors that point at the offending line."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sracl_core.errors import DataFormatError


def require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise DataFormatError(path, f"{what} to exist (check the path in the config)")


def read_text_table(path: Path, separator: str) -> pl.DataFrame:
    """Read a headed table as strings: quoting is off, so titles keep their quotes.

    Rows with the wrong number of fields are reported by line number rather
    than by the parser's byte offset.
    """
    require_file(path, "the table")
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().rstrip("\r\n")
        if not header:
            raise DataFormatError(path, "a header line", line=1, got=header)
        n_fields = len(header.split(separator))
        for line_number, line in enumerate(handle, start=2):
            line = line.rstrip("\r\n")
            if line and len(line.split(separator)) != n_fields:
                raise DataFormatError(
                    path, f"{n_fields} {separator!r}-separated fields like the header",
                    line=line_number, got=line,
                )
    return pl.read_csv(path, separator=separator, quote_char=None, infer_schema=False)
