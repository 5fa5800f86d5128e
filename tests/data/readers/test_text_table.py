"""Headed text tables: read as text with quotes kept, ragged rows named by line."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sracl_core.data.readers.text_table import no_rows, read_text_table
from sracl_core.errors import DataFormatError


def test_every_cell_is_text_and_quotes_stay_part_of_titles(tmp_path: Path) -> None:
    path = tmp_path / "items.tsv"
    path.write_text('id\ttitle\n1\t"Best" Lipstick\n\n2\t0042\n')
    table = read_text_table(path, "\t")
    assert table.rows() == [("1", '"Best" Lipstick'), ("2", "0042")]


def test_a_ragged_row_and_a_missing_file_name_where(tmp_path: Path) -> None:
    path = tmp_path / "items.tsv"
    path.write_text("id\ttitle\n1\tA\n2\tB\textra\n")
    with pytest.raises(DataFormatError, match=r"items.tsv:3: expected 2 '\\t'-separated fields "
                                              r"like the header, got '2\\tB\\textra'"):
        read_text_table(path, "\t")
    with pytest.raises(DataFormatError, match=r"expected the items table to exist"):
        read_text_table(tmp_path / "gone.tsv", "\t", what="the items table")


def test_a_file_without_records_says_which_kind_of_empty_it_is() -> None:
    assert "only its header line" in str(no_rows(Path("a.tsv"), "header"))
    assert "the Parquet file is empty" in str(no_rows(Path("a.parquet"), "parquet"))
    assert "empty or blank" in str(no_rows(Path("a.txt"), "lines"))


def test_a_repeated_column_name_and_lone_carriage_returns_are_named(tmp_path: Path) -> None:
    repeated = tmp_path / "repeated.tsv"
    repeated.write_text("id\ttitle\ttitle\n1\tA\tB\n")
    with pytest.raises(DataFormatError, match=r"repeated.tsv:1: expected a header whose column "
                                              r"names differ, got \"'title' more than once\""):
        read_text_table(repeated, "\t")
    old_mac = tmp_path / "old_mac.tsv"
    old_mac.write_bytes(b"id\ttitle\r1\tA\r2\tB\r")
    with pytest.raises(DataFormatError, match=r"old_mac.tsv:1: expected lines that end in "):
        read_text_table(old_mac, "\t")


def test_gzip_a_byte_order_mark_and_a_bad_byte(tmp_path: Path) -> None:
    text = "id\ttitle\n1\tCr\u00e8me\n"
    plain, marked, packed = tmp_path / "a.tsv", tmp_path / "b.tsv", tmp_path / "c.tsv.gz"
    plain.write_text(text)
    marked.write_bytes(text.encode("utf-8-sig"))
    packed.write_bytes(gzip.compress(text.encode()))
    expected = read_text_table(plain, "\t")
    assert expected.rows() == [("1", "Cr\u00e8me")]
    assert read_text_table(marked, "\t").equals(expected)
    assert read_text_table(packed, "\t").equals(expected)
    latin = tmp_path / "latin.tsv"
    latin.write_bytes(text.encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"latin.tsv:2: expected utf-8 text"):
        read_text_table(latin, "\t")
