"""Reading delimited text tables with errors that point at the offending line."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl

from sracl_core.errors import DataFormatError

Layout = Literal["header", "lines", "parquet"]


def require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise DataFormatError(path, f"{what} to exist (check the path in the config)")


def no_rows(path: Path, layout: Layout, what: str = "the file") -> DataFormatError:
    """The error for a file that holds no records: only a header, or nothing at all.

    Raised by the reader itself because an empty table only surfaces later as
    "no item matches", which wrongly blames mismatched ids between the files.
    """
    if layout == "header":
        return DataFormatError(path, f"at least one row below the header line in {what}",
                               got="no rows: the file has only its header line")
    if layout == "parquet":
        return DataFormatError(path, f"at least one row in {what}",
                               got="no rows: the Parquet file is empty")
    return DataFormatError(path, f"at least one record in {what}",
                           got="no rows: the file is empty or blank")


def read_text_table(path: Path, separator: str, what: str = "the table") -> pl.DataFrame:
    """Read a headed table as strings: quoting is off, so titles keep their quotes.

    Rows with the wrong number of fields are reported by line number rather
    than by the parser's byte offset; a header without rows is an error.
    """
    require_file(path, what)
    n_rows = 0
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().rstrip("\r\n")
        if not header:
            raise DataFormatError(path, "a header line", line=1, got=header)
        n_fields = len(header.split(separator))
        for line_number, line in enumerate(handle, start=2):
            line = line.rstrip("\r\n")
            if not line:
                continue
            n_rows += 1
            if len(line.split(separator)) != n_fields:
                raise DataFormatError(
                    path, f"{n_fields} {separator!r}-separated fields like the header",
                    line=line_number, got=line,
                )
    if n_rows == 0:
        raise no_rows(path, "header", what)
    table = pl.read_csv(path, separator=separator, quote_char=None, infer_schema=False)
    # polars reads a blank line as a row of nulls; the file's own rows are only the others
    return table.filter(~pl.all_horizontal(pl.all().is_null()))
