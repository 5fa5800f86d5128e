"""A file with a header and no rows (or no lines at all) is named as such by every reader.

Before, such a file read as an empty table and the cleaning step then blamed
the items file for not matching the interactions' ids.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sracl_core.data.config import (
    Amazon2014Source,
    Amazon2023Source,
    DataConfig,
    MovieLensSource,
    SasrecSource,
    TableSource,
)
from sracl_core.data.preprocess import clean
from sracl_core.data.readers import read_source
from sracl_core.errors import DataFormatError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HEADER_ONLY = "expected at least one row below the header line"
NO_LINES = "expected at least one record"


def assert_no_rows(caught: pytest.ExceptionInfo[DataFormatError], path: Path,
                   expected: str) -> None:
    message = str(caught.value)
    assert message.startswith(f"{path}: {expected}"), message
    assert "no rows" in message
    assert "same item ids" not in message and "every item to have a row" not in message


def test_header_only_sasrec_items_file_through_cleaning(write_file):
    items = write_file("items.tsv", ["item_id\ttitle"])
    source = SasrecSource(interactions=FIXTURES / "sasrec" / "interactions.txt", items=items)
    with pytest.raises(DataFormatError) as caught:
        clean(read_source(source), DataConfig(source=source, k_core=1))
    assert_no_rows(caught, items, HEADER_ONLY + " in the items file")
    assert "the file has only its header line" in str(caught.value)


def test_empty_sasrec_interactions_file(write_file):
    path = write_file("interactions.txt", ["", "  "])
    with pytest.raises(DataFormatError) as caught:
        read_source(SasrecSource(interactions=path))
    assert_no_rows(caught, path, NO_LINES + " in the interactions file")


@pytest.mark.parametrize("name", ["log.csv", "log.tsv", "log.csv.gz"])
def test_header_only_interaction_table(write_file, name: str):
    separator = "\t" if ".tsv" in name else ","
    path = write_file(name, [separator.join(["user_id", "item_id", "timestamp"])])
    with pytest.raises(DataFormatError) as caught:
        read_source(TableSource(interactions=path))
    assert_no_rows(caught, path, HEADER_ONLY + " in the interactions table")


def test_header_and_blank_lines_is_still_no_rows(write_file):
    path = write_file("log.csv", ["user_id,item_id,timestamp", "", ""])
    with pytest.raises(DataFormatError) as caught:
        read_source(TableSource(interactions=path))
    assert_no_rows(caught, path, HEADER_ONLY)


def test_header_only_item_table(write_file):
    interactions = write_file("log.csv", ["user_id,item_id,timestamp", "a,x,1"])
    items = write_file("items.csv", ["item_id,title"])
    with pytest.raises(DataFormatError) as caught:
        read_source(TableSource(interactions=interactions, items=items))
    assert_no_rows(caught, items, HEADER_ONLY + " in the items table")


def test_parquet_without_rows(tmp_path: Path):
    path = tmp_path / "log.parquet"
    pl.DataFrame(schema={"user_id": pl.String, "item_id": pl.String,
                         "timestamp": pl.Int64}).write_parquet(path)
    with pytest.raises(DataFormatError) as caught:
        read_source(TableSource(interactions=path))
    assert_no_rows(caught, path, "expected at least one row in the interactions table")
    assert "the Parquet file is empty" in str(caught.value)


@pytest.mark.parametrize("source_type", [Amazon2014Source, Amazon2023Source])
def test_empty_amazon_reviews(write_file, source_type: type):
    path = write_file("reviews.json.gz", [])
    with pytest.raises(DataFormatError) as caught:
        read_source(source_type(reviews=path))
    assert_no_rows(caught, path, NO_LINES + " in the reviews file")


def test_empty_amazon_meta(write_file):
    reviews = FIXTURES / "amazon2014" / "reviews_Beauty_5.json.gz"
    meta = write_file("meta.json.gz", [""])
    with pytest.raises(DataFormatError) as caught:
        read_source(Amazon2014Source(reviews=reviews, meta=meta))
    assert_no_rows(caught, meta, NO_LINES + " in the metadata file")


@pytest.mark.parametrize(("folder", "file"), [("ml-100k", "u.data"), ("ml-100k", "u.item"),
                                              ("ml-1m", "ratings.dat"),
                                              ("ml-1m", "movies.dat")])
def test_empty_movielens_file(tmp_path: Path, folder: str, file: str):
    root = tmp_path / folder
    root.mkdir()
    for original in (FIXTURES / "movielens" / folder).iterdir():
        (root / original.name).write_bytes(b"" if original.name == file else
                                           original.read_bytes())
    with pytest.raises(DataFormatError) as caught:
        read_source(MovieLensSource(root=root))
    assert_no_rows(caught, root / file, NO_LINES)
