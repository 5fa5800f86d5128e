"""Headed text tables: read as text with quotes kept, ragged rows named by line."""

from __future__ import annotations

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
