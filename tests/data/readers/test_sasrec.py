"""The SASRec-style ``user item`` file plus items TSV, and the text-table checks it relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from sracl_core.data.config import SasrecSource
from sracl_core.data.readers import read_source
from sracl_core.data.readers.text_table import read_text_table
from sracl_core.errors import DataFormatError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sasrec"
INTERACTIONS, ITEMS = FIXTURES / "interactions.txt", FIXTURES / "items.tsv"


def test_line_number_is_the_timestamp():
    raw = read_source(SasrecSource(interactions=INTERACTIONS))
    assert raw.interactions.rows() == [
        ("1", "1", 0, 0), ("1", "2", 1, 1), ("2", "2", 2, 2), ("1", "3", 3, 3), ("2", "1", 4, 4),
    ]
    assert raw.items is None


def test_items_keep_quotes_and_parse_prices():
    items = read_source(SasrecSource(interactions=INTERACTIONS, items=ITEMS)).items
    assert items is not None
    assert items.select("item_id", "title", "price").rows() == [
        ("1", '"Quoted" Toner', 3.5), ("2", None, None), ("3", "Lip Balm", 10.0),
    ]


def test_id_column_can_be_named():
    items = read_source(SasrecSource(interactions=INTERACTIONS, items=ITEMS,
                                     id_column="asin")).items
    assert items is not None and items["item_id"].to_list() == ["B01", "B02", "B03"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1 2 3", "two whitespace-separated fields 'user item'"),
        ("1", "two whitespace-separated fields 'user item'"),
        ("u1 2", "a non-negative integer user id"),
        ("1 -2", "a non-negative integer item id"),
    ],
)
def test_bad_interaction_line(write_file, line: str, expected: str):
    path = write_file("interactions.txt", ["1 1", "", line])
    with pytest.raises(DataFormatError) as caught:
        read_source(SasrecSource(interactions=path))
    assert f"{path}:3:" in str(caught.value) and expected in str(caught.value)


def test_missing_interactions_file(tmp_path: Path):
    path = tmp_path / "nope.txt"
    with pytest.raises(DataFormatError, match="the interactions file to exist") as caught:
        read_source(SasrecSource(interactions=path))
    assert str(path) in str(caught.value)


def test_named_id_column_absent_from_the_header(write_file):
    items = write_file("items.tsv", ["item\ttitle", "1\tA"])
    with pytest.raises(DataFormatError) as caught:
        read_source(SasrecSource(interactions=INTERACTIONS, items=items, id_column="asin"))
    assert f"{items}:1:" in str(caught.value)
    assert "a column named 'asin' in the header" in str(caught.value)


def test_non_numeric_price_names_its_line(write_file):
    items = write_file("items.tsv", ["item_id\ttitle\tprice", "1\tA\t2", "2\tB\tcheap"])
    with pytest.raises(DataFormatError) as caught:
        read_source(SasrecSource(interactions=INTERACTIONS, items=items))
    assert f"{items}:3:" in str(caught.value) and "a numeric price" in str(caught.value)


@pytest.mark.parametrize("line", ["3\tC\textra", "3"])
def test_text_table_wrong_field_count(write_file, line: str):
    path = write_file("items.tsv", ["item_id\ttitle", "1\tA", "2\tB", line])
    with pytest.raises(DataFormatError) as caught:
        read_text_table(path, "\t")
    assert f"{path}:4:" in str(caught.value)
    assert "2 '\\t'-separated fields like the header" in str(caught.value)


def test_text_table_needs_a_header(write_file):
    path = write_file("items.tsv", [""])
    with pytest.raises(DataFormatError) as caught:
        read_text_table(path, "\t")
    assert f"{path}:1:" in str(caught.value) and "a header line" in str(caught.value)


def test_text_table_missing_file(tmp_path: Path):
    with pytest.raises(DataFormatError, match="the table to exist"):
        read_text_table(tmp_path / "items.tsv", "\t")


def test_an_undecodable_byte_names_its_file_and_line(write_file):
    path = write_file("interactions.txt", ["1 1", "2 caf\u00e9"], encoding="latin-1")
    with pytest.raises(DataFormatError) as caught:
        read_source(SasrecSource(interactions=path))
    assert str(caught.value) == f"{path}:2: expected utf-8 text, got \"b'\\\\xe9'\""


def test_gzipped_and_byte_order_marked_files_read_as_the_plain_one(write_file):
    lines = ["1 1", "1 2", "2 2"]
    plain = read_source(SasrecSource(interactions=write_file("a.txt", lines))).interactions
    for path in (write_file("b.txt.gz", lines), write_file("c.txt", lines, encoding="utf-8-sig")):
        assert read_source(SasrecSource(interactions=path)).interactions.equals(plain)


@pytest.mark.parametrize("digits", ["\u0661\u0660", "\u00b2"], ids=["arabic-indic", "superscript"])
def test_only_ascii_digits_are_ids(write_file, digits: str):
    path = write_file("interactions.txt", ["1 1", f"1 {digits}"])
    with pytest.raises(DataFormatError, match=f"{path}:2: expected a non-negative integer item"):
        read_source(SasrecSource(interactions=path))


def test_one_id_written_two_ways_is_an_error_naming_both_lines(write_file):
    path = write_file("interactions.txt", ["1 1060", "1 7", "", "2 01060"])
    with pytest.raises(DataFormatError) as caught:
        read_source(SasrecSource(interactions=path))
    assert str(caught.value) == (f"{path}:4: expected each item id written one way (ids are "
                                 "integers), got '01060, which is item 1060 of line 1'")
    padded = write_file("padded.txt", ["01 007", "01 0"])
    assert read_source(SasrecSource(interactions=padded)).interactions["item_id"].to_list() \
        == ["007", "0"], "zero-padded ids that do not clash are kept as written"


def test_an_item_on_two_rows_is_an_error_naming_both_lines(write_file):
    items = write_file("items.tsv", ["item_id\ttitle", "1\tToner", "", "2\tBalm", "1\tOther"])
    with pytest.raises(DataFormatError) as caught:
        read_source(SasrecSource(interactions=INTERACTIONS, items=items))
    assert str(caught.value) == (f"{items}:5: expected one row for each item id, got "
                                 "'item 1 again (first on line 2)'")


def test_a_bad_price_names_its_line_past_blank_lines(write_file):
    items = write_file("items.tsv", ["item_id\tprice", "1\t2.5", "", "", "2\tabc"])
    with pytest.raises(DataFormatError, match=f"{items}:5: expected a numeric price, got 'abc'"):
        read_source(SasrecSource(interactions=INTERACTIONS, items=items))
