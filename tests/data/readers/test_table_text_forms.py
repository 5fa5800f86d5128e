"""How a table's text is read: quoting, separators, encodings, id forms, repeated item rows."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sracl_core.data.config import TableSource
from sracl_core.data.readers import read_source
from sracl_core.errors import DataFormatError


def test_inch_marks_read_as_text_when_quoting_is_off(write_file):
    log = write_file("log.txt", ["user_id\titem_id", "u\t1", "u\t2"])
    items = write_file("items.csv", ["item_id,title", '1,Mirror 12" wide', '2,"Best" brush'])
    with pytest.raises(DataFormatError, match=r"items.csv:2: expected fields quoted as CSV"):
        read_source(TableSource(interactions=log, items=items, separator="\t",
                                items_separator=",", columns={"timestamp": None}))
    raw = read_source(TableSource(interactions=log, items=items, separator="\\t",
                                  items_separator=",", quote=None, columns={"timestamp": None}))
    assert raw.items is not None
    assert raw.items["title"].to_list() == ['Mirror 12" wide', '"Best" brush']


def test_a_quote_that_is_also_a_separator_is_refused():
    with pytest.raises(ValueError, match="quote ';' is also a separator"):
        TableSource(interactions=Path("log.csv"), separator=";", quote=";")


def test_a_utf16_header_is_reported_as_an_encoding_not_as_missing_columns(write_file):
    path = write_file("log.csv", ["user_id,item_id,timestamp", "a,x,1"], encoding="utf-16")
    with pytest.raises(DataFormatError, match=r"log.csv:1: expected utf-8 text, got .*xff"):
        read_source(TableSource(interactions=path))


def test_whole_float_ids_read_as_integers(tmp_path: Path):
    path = tmp_path / "log.parquet"
    pl.DataFrame({"user_id": [1.0, 2.0], "item_id": [1060.0, 7.0],
                  "timestamp": [1, 2]}).write_parquet(path)
    assert read_source(TableSource(interactions=path)).interactions["item_id"].to_list() == [
        "1060", "7"]
    pl.DataFrame({"user_id": ["u"], "item_id": [1.5], "timestamp": [1]}).write_parquet(path)
    assert read_source(TableSource(interactions=path)).interactions["item_id"].to_list() == [
        "1.5"]


def test_an_item_named_twice_in_the_items_table_names_both_lines(write_file):
    log = write_file("log.csv", ["user_id,item_id,timestamp", "a,x,1"])
    items = write_file("items.csv", ["item_id,title", "x,Mug", "y,Cup", "x,Bowl"])
    with pytest.raises(DataFormatError, match=r"items.csv:4: expected one row for each item id, "
                                              r"got \"item 'x' again \(first on line 2\)\""):
        read_source(TableSource(interactions=log, items=items))
