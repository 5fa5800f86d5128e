"""Generic CSV/TSV/Parquet tables with a column mapping; string ids; int or ISO timestamps."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from sracl_core.data.config import TableSource
from sracl_core.data.readers import read_source
from sracl_core.errors import DataFormatError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "table"
COLUMNS = {"user": "customer", "item": "sku", "timestamp": "when"}
ITEM_COLUMNS = {"item": "sku", "title": "name", "brand": "maker", "categories": "category",
                "price": "price"}
# 2021-03-04T00:00:00Z is 1_614_816_000 s after the epoch (18,690 days).
MARCH_4 = 1_614_816_000 * 1_000_000


def source(interactions: Path, items: Path | None = None, **overrides: object) -> TableSource:
    fields: dict[str, object] = {"interactions": interactions, "items": items,
                                 "columns": COLUMNS, "item_columns": ITEM_COLUMNS}
    fields.update(overrides)
    return TableSource.model_validate(fields)


def test_csv_with_string_ids_and_iso_timestamps_as_microseconds():
    raw = read_source(source(FIXTURES / "interactions.csv"))
    assert raw.interactions.rows() == [
        ("c-007", "SKU-1", MARCH_4 + (5 * 3600 + 6 * 60 + 7) * 1_000_000, 0),
        ("c-007", "SKU-2", MARCH_4, 1),
        ("c-8", "SKU-1", MARCH_4 + (4 * 3600 + 6 * 60 + 7) * 1_000_000, 2),  # +01:00
        ("c-8", "007", MARCH_4 + 86_400 * 1_000_000 + 250_000, 3),
    ]


def test_tsv_items_by_mapping_with_prices_parsed():
    items = read_source(source(FIXTURES / "interactions.csv", FIXTURES / "items.tsv")).items
    assert items is not None
    assert items.rows() == [
        ("SKU-1", "Blue Mug", "Potter & Co", "Kitchen > Mugs", None, 1299.0),
        ("SKU-2", "Red Mug", None, "Kitchen > Mugs", None, None),
        ("007", "Spy Kit", "Q Branch", "Toys", None, 7.0),
    ]


def test_integer_timestamps_are_kept_and_separator_is_configurable(write_file):
    path = write_file("log.txt", ["u;i;t", "u1;10;1700000000", "u2;011;-5"])
    raw = read_source(TableSource(interactions=path, separator=";",
                                  columns={"user": "u", "item": "i", "timestamp": "t"}))
    assert raw.interactions.rows() == [("u1", "10", 1700000000, 0), ("u2", "011", -5, 1)]


def test_without_a_timestamp_column_row_order_is_time(write_file):
    path = write_file("log.csv", ["user_id,item_id", "b,x", "a,y"])
    raw = read_source(TableSource(interactions=path, columns={"timestamp": None}))
    assert raw.interactions.rows() == [("b", "x", 0, 0), ("a", "y", 1, 1)]


def test_gzipped_csv(write_file):
    path = write_file("log.csv.gz", ["user_id,item_id,timestamp", "a,x,5"])
    assert read_source(TableSource(interactions=path)).interactions.rows() == [("a", "x", 5, 0)]


def test_parquet_with_integer_ids_and_datetime_and_date_columns(tmp_path: Path):
    path = tmp_path / "log.parquet"
    pl.DataFrame({
        "user_id": [7, 7, 8],
        "item_id": [100, 200, 100],
        "timestamp": [datetime(2021, 3, 4, 5, 6, 7), datetime(2021, 3, 4),
                      datetime(2021, 3, 5, 0, 0, 0, 250)],
        "day": [date(2021, 3, 4), date(2021, 3, 5), date(2021, 3, 6)],
    }).write_parquet(path)
    raw = read_source(TableSource(interactions=path))
    assert raw.interactions.rows() == [
        ("7", "100", MARCH_4 + 18_367_000_000, 0),
        ("7", "200", MARCH_4, 1),
        ("8", "100", MARCH_4 + 86_400_000_000 + 250, 2),
    ]
    by_day = read_source(TableSource(interactions=path, columns={"timestamp": "day"}))
    assert by_day.interactions["timestamp"].to_list() == [
        MARCH_4 + day * 86_400_000_000 for day in range(3)]


def test_missing_column_names_file_column_and_columns_found(write_file):
    path = write_file("log.csv", ["customer,product,when", "a,x,1"])
    with pytest.raises(DataFormatError) as caught:
        read_source(source(path))
    message = str(caught.value)
    assert str(path) in message
    assert "a column named 'sku'" in message and "data.source.columns" in message
    assert "['customer', 'product', 'when']" in message


def test_missing_item_column_names_the_items_file(write_file):
    interactions = write_file("log.csv", ["customer,sku,when", "a,x,1"])
    items = write_file("items.csv", ["sku,name,maker,category"])
    with pytest.raises(DataFormatError) as caught:
        read_source(source(interactions, items))
    assert str(items) in str(caught.value) and "'price'" in str(caught.value)
    assert "data.source.item_columns" in str(caught.value)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("b,y,yesterday", "an integer or ISO 8601 datetime in column 'when'"),
        ("b,y,2021-13-01", "an integer or ISO 8601 datetime in column 'when'"),
        ("b,y,", "an integer or ISO 8601 datetime in column 'when'"),
        ("b,y,2011-03-13 07:33:40", "an integer timestamp in column 'when', like the first"),
        ("b,y,99999999999999999999", "an integer timestamp that fits in 64 bits"),
        (",y,5", "a non-empty id in column 'customer'"),
        ("b, ,5", "a non-empty id in column 'sku'"),
    ],
)
def test_bad_value_names_file_line_and_expectation(write_file, row: str, expected: str):
    path = write_file("log.csv", ["customer,sku,when", "a,x,1", row])
    with pytest.raises(DataFormatError) as caught:
        read_source(source(path))
    assert str(caught.value).startswith(f"{path}:3: expected {expected}")


def test_line_number_counts_the_header_not_the_row_index(write_file):
    """The issue's case: the fifth row is on line 6 and must be reported there."""
    rows = [f"u{i},i{i},{i}" for i in range(1, 5)]
    path = write_file("log.csv", ["customer,sku,when", *rows, "u5,i5,soon"])
    with pytest.raises(DataFormatError) as caught:
        read_source(source(path))
    assert str(caught.value) == (
        f"{path}:6: expected an integer or ISO 8601 datetime in column 'when', got 'soon'")


def test_line_number_follows_quoted_line_breaks_and_blank_lines(write_file):
    path = write_file("log.csv", ["customer,sku,when", 'a,"two', 'lines",1', "", "b,y,later"])
    with pytest.raises(DataFormatError) as caught:
        read_source(source(path, columns={"user": "customer", "item": "sku",
                                          "timestamp": None}))
    assert str(caught.value).startswith(f"{path}:4: expected a non-empty id")
    path = write_file("log2.csv", ["customer,sku,when", 'a,"two', 'lines",1', "b,y,later"])
    with pytest.raises(DataFormatError) as caught:
        read_source(source(path))
    assert str(caught.value).startswith(f"{path}:4: expected an integer or ISO 8601")


def test_parquet_rows_are_named_by_row(tmp_path: Path):
    path = tmp_path / "log.parquet"
    pl.DataFrame({"user_id": ["a", None], "item_id": ["x", "y"],
                  "timestamp": [1, 2]}).write_parquet(path)
    with pytest.raises(DataFormatError) as caught:
        read_source(TableSource(interactions=path))
    assert str(caught.value).startswith(f"{path}: row 2: expected a non-empty id")


@pytest.mark.parametrize("row", ["b,y,5,extra", "b,y"])
def test_wrong_field_count_names_its_line(write_file, row: str):
    path = write_file("log.csv", ["customer,sku,when", "a,x,1", "c,z,2", row])
    with pytest.raises(DataFormatError) as caught:
        read_source(source(path))
    assert str(caught.value).startswith(
        f"{path}:4: expected 3 ','-separated fields like the header, got ")


def test_non_numeric_price(write_file):
    interactions = write_file("log.csv", ["customer,sku,when", "a,x,1"])
    items = write_file("items.tsv", ["sku\tname\tmaker\tcategory\tprice", "x\tX\t\t\tcheap"])
    with pytest.raises(DataFormatError) as caught:
        read_source(source(interactions, items))
    assert str(caught.value) == f"{items}:2: expected a numeric price in column 'price', " \
        "got 'cheap'"


def test_float_timestamp_column_in_parquet_is_rejected(tmp_path: Path):
    path = tmp_path / "log.parquet"
    pl.DataFrame({"user_id": ["a"], "item_id": ["x"], "timestamp": [1.5]}).write_parquet(path)
    with pytest.raises(DataFormatError) as caught:
        read_source(TableSource(interactions=path))
    assert str(path) in str(caught.value) and "got 'dtype Float64'" in str(caught.value)


def test_unreadable_parquet(tmp_path: Path):
    path = tmp_path / "log.parquet"
    path.write_bytes(b"user_id,item_id\n")
    with pytest.raises(DataFormatError, match="a readable Parquet file") as caught:
        read_source(TableSource(interactions=path))
    assert str(path) in str(caught.value)


def test_empty_csv_needs_a_header(write_file):
    path = write_file("log.csv", [])
    with pytest.raises(DataFormatError, match="a header row") as caught:
        read_source(TableSource(interactions=path))
    assert str(path) in str(caught.value)


def test_an_undecodable_byte_names_its_line(write_file):
    path = write_file("log.csv", ["user_id,item_id", "u1,a", "u2,caf\u00e9"], encoding="latin-1")
    with pytest.raises(DataFormatError) as caught:
        read_source(TableSource(interactions=path))
    assert str(caught.value) == f"{path}:3: expected utf-8 text, got \"b'\\\\xe9'\""


def test_a_datetime_column_with_one_integer_names_its_line(write_file):
    path = write_file("log.csv", ["customer,sku,when", "a,x,2021-03-04", "a,y,5"])
    with pytest.raises(DataFormatError) as caught:
        read_source(source(path))
    assert str(caught.value).startswith(
        f"{path}:3: expected a datetime timestamp in column 'when', like the first row's")


def test_a_parquet_timestamp_past_64_bits_names_its_row(tmp_path: Path):
    path = tmp_path / "log.parquet"
    pl.DataFrame({"user_id": ["a", "b"], "item_id": ["x", "y"],
                  "timestamp": pl.Series([1, 2**64 - 1], dtype=pl.UInt64)}).write_parquet(path)
    with pytest.raises(DataFormatError) as caught:
        read_source(TableSource(interactions=path))
    assert str(caught.value).startswith(
        f"{path}: row 2: expected an integer timestamp that fits in 64 bits")


def test_a_list_valued_text_column_is_named(tmp_path: Path, write_file):
    interactions = write_file("log.csv", ["user_id,item_id,timestamp", "a,x,1"])
    items = tmp_path / "items.parquet"
    pl.DataFrame({"item_id": ["x"], "title": [["Blue", "Mug"]]}).write_parquet(items)
    with pytest.raises(DataFormatError) as caught:
        read_source(TableSource(interactions=interactions, items=items))
    assert str(caught.value) == (f"{items}: expected text or numbers in column 'title', "
                                 "got 'dtype List(String)'")


def test_one_column_may_fill_two_text_fields(write_file):
    interactions = write_file("log.csv", ["user_id,item_id,timestamp", "a,x,1"])
    items = write_file("items.csv", ["item_id,title", "x,Blue Mug"])
    raw = read_source(TableSource(interactions=interactions, items=items,
                                  item_columns={"title": "title", "description": "title"}))
    assert raw.items is not None
    assert raw.items.select("title", "description").rows() == [("Blue Mug", "Blue Mug")]


def test_one_column_for_two_interaction_fields_is_a_config_error(write_file):
    path = write_file("log.csv", ["user_id,item_id,timestamp", "a,x,1"])
    with pytest.raises(ValueError, match="'user' and 'item' both name column 'user_id'"):
        TableSource(interactions=path, columns={"user": "user_id", "item": "user_id"})


def test_prices_that_are_not_amounts_are_unknown(write_file):
    interactions = write_file("log.csv", ["user_id,item_id,timestamp", "a,x,1"])
    items = write_file("items.csv", ["item_id,price", "x,NaN", "y,inf", "z,-3", "w,$2.50"])
    raw = read_source(TableSource(interactions=interactions, items=items,
                                  item_columns={"title": None, "price": "price"}))
    assert raw.items is not None
    assert raw.items["price"].to_list() == [None, None, None, 2.5]


def test_a_repeated_header_name_is_named(write_file):
    path = write_file("log.csv", ["user_id,item_id,timestamp,item_id", "a,x,1,y"])
    with pytest.raises(DataFormatError) as caught:
        read_source(TableSource(interactions=path))
    assert str(caught.value) == (f"{path}:1: expected a header whose column names differ, "
                                 "got \"'item_id' more than once\"")


def test_lone_carriage_return_line_endings_are_named(tmp_path: Path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"user_id,item_id,timestamp\ra,x,1\rb,y,2\r")
    with pytest.raises(DataFormatError, match="lines that end in a lone") as caught:
        read_source(TableSource(interactions=path))
    assert str(caught.value).startswith(f"{path}:1: expected lines that end in")
