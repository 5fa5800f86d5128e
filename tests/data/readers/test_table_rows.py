"""A loaded row's line in its file, counted the way an editor counts, quoted newlines included."""

from __future__ import annotations

from pathlib import Path

import pytest

from sracl_core.data.readers.table_rows import TableRows, raise_ragged_row
from sracl_core.errors import DataFormatError


def test_rows_map_to_the_lines_they_start_on(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('user,item,title\nu1,i1,"two\nlines"\nu2,i2,plain\n')
    rows = TableRows(path, ",")
    assert [rows.line_of(0), rows.line_of(1)] == [2, 4]  # row 0 spans lines 2-3
    assert str(rows.error("a known item", 1, got="i2")) == (
        f"{path}:4: expected a known item, got 'i2'")
    assert str(TableRows(Path("t.parquet"), None).error("x", 4)) == "t.parquet: row 5: expected x"


def test_the_first_ragged_row_is_reported_by_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3\n")
    with pytest.raises(DataFormatError, match=r"t.csv:3: expected 2 ','-separated fields"):
        raise_ragged_row(path, ",")
