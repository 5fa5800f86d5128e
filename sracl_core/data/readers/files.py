"""The two checks every reader makes before parsing: the file is there, and it is not empty."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from sracl_core.errors import DataFormatError

Layout = Literal["header", "lines", "parquet"]


def require_file(path: Path, what: str) -> None:
    if path.is_dir():
        raise DataFormatError(path, f"{what} to be a file (check the path in the config)",
                              got="a folder")
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
