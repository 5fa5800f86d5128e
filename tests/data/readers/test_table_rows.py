"""A loaded row's line in its file, counted the way an editor counts, quoted newlines included."""

from __future__ import annotations

from pathlib import Path

import pytest

from sracl_core.data.readers.table_rows import TableRows, raise_quote_fault, raise_ragged_row
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


@pytest.mark.parametrize(("text", "line", "got"), [
    ('a,b\n1,12" mirror\n', 2, '1,12" mirror'),                # a quote inside a plain field
    ('a,b\n1,"Best" one\n', 2, '1,"Best" one'),                # text after a closing quote
    ('a,b\n1,"ok, ""quoted"""\n2,"opens\nand never\n', 3, "a quoted field that never closes"),
])
def test_an_unpaired_quote_is_reported_on_its_line(tmp_path: Path, text: str, line: int,
                                                   got: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError) as caught:
        raise_quote_fault(path, ",", '"')
    assert str(caught.value).startswith(f"{path}:{line}: expected fields quoted as CSV")
    assert "data.source.quote: null" in str(caught.value)
    assert str(caught.value).endswith(f"got {got!r}")


def test_well_quoted_fields_pass_the_quote_scan(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text('a\tb\n1\t"two\nlines, ""x"""\n2\t""\n3\tplain\r\n')
    raise_quote_fault(path, "\t", '"')
    assert TableRows(path, "\t").line_of(1) == 4


def test_without_quoting_a_quote_is_text_when_counting_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text('a\tb\n1\t12" mirror\n2\t"x\n3\ty\n')
    rows = TableRows(path, "\t", quote=None)
    assert [rows.line_of(i) for i in range(3)] == [2, 3, 4]
    raise_ragged_row(path, "\t", None)
