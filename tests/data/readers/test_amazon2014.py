"""Amazon 2014: JSON-lines reviews and Python-literal metadata, gzipped as published."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from sracl_core.data.config import Amazon2014Source, DataConfig
from sracl_core.data.preprocess import clean
from sracl_core.data.readers import read_source
from sracl_core.data.readers.amazon2014 import read_meta_2014
from sracl_core.errors import DataFormatError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "amazon2014"
REVIEWS = FIXTURES / "reviews_Beauty_5.json.gz"
META = FIXTURES / "meta_Beauty.json.gz"


def review(user: str = "A1", asin: str = "B1", time: object = 1000) -> str:
    return json.dumps({"reviewerID": user, "asin": asin, "overall": 5.0,
                       "unixReviewTime": time})


def test_reads_reviews_in_file_order_with_line_positions():
    raw = read_source(Amazon2014Source(reviews=REVIEWS, meta=META))
    assert raw.interactions.rows() == [
        ("A1BEAUTYFAN", "B000000001", 1300, 0),
        ("A2SKEPTIC", "B000000002", 1100, 1),
        ("A1BEAUTYFAN", "B000000002", 1200, 2),
        ("A1BEAUTYFAN", "B000000003", 1300, 3),
        ("A2SKEPTIC", "B000000001", 1000, 4),
        ("A2SKEPTIC", "B000000003", 1150, 5),
        ("A3ONEOFF", "B000000004", 1000, 6),
        ("A3ONEOFF", "B000000001", 1050, 7),
    ]
    assert raw.interactions_path == REVIEWS and raw.items_path == META


def test_meta_keeps_reviewed_items_and_joins_category_paths():
    raw = read_source(Amazon2014Source(reviews=REVIEWS, meta=META))
    assert raw.items is not None
    assert raw.items.rows() == [
        ("B000000001", "Rose Water Toner", "Petal",
         "Beauty > Skin Care > Face; Beauty > Fragrance", "A toner that's gentle.", 12.5),
        ("B000000002", 'Matte Lipstick "Ruby"', None, "Beauty > Makeup > Lips", None, None),
        ("B000000003", None, None, "Clothing, Shoes & Jewelry > Women", "No title here", 3.0),
    ]


def test_meta_without_a_wanted_set_keeps_every_product():
    assert read_meta_2014(META)["item_id"].to_list() == [
        "B000000001", "B000000099", "B000000002", "B000000003"]


def test_cleaning_the_fixture_orders_each_user_by_time_then_file_position():
    config = DataConfig(source=Amazon2014Source(reviews=REVIEWS, meta=META), k_core=1)
    dataset = clean(read_source(config.source), config)
    # B000000004 has no metadata (dropped), which leaves A3ONEOFF below 3 interactions.
    assert dataset.stats["dropped_missing_metadata"] == 1
    assert dataset.users["original_id"].to_list() == ["A1BEAUTYFAN", "A2SKEPTIC"]
    assert dataset.items["original_id"].to_list() == ["B000000001", "B000000002", "B000000003"]
    sequences = (dataset.interactions.group_by("user", maintain_order=True)
                 .agg("item").sort("user")["item"].to_list())
    # A1: 1200 (B2), then the 1300 tie in file order (B1 on line 1, B3 on line 4).
    assert sequences == [[2, 1, 3], [1, 2, 3]]


def test_plain_uncompressed_files_read_the_same(tmp_path: Path):
    plain_reviews, plain_meta = tmp_path / "reviews.json", tmp_path / "meta.json"
    plain_reviews.write_bytes(gzip.decompress(REVIEWS.read_bytes()))
    plain_meta.write_bytes(gzip.decompress(META.read_bytes()))
    gz = read_source(Amazon2014Source(reviews=REVIEWS, meta=META))
    plain = read_source(Amazon2014Source(reviews=plain_reviews, meta=plain_meta))
    assert plain.interactions.equals(gz.interactions)
    assert plain.items is not None and gz.items is not None and plain.items.equals(gz.items)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"reviewerID": "A1", "asin": ', "one JSON object a line"),
        ('["A1", "B1", 1000]', "one JSON object a line"),
        (json.dumps({"reviewerID": "A1", "unixReviewTime": 1000}), "non-empty string field 'asin'"),
        (json.dumps({"asin": "B1", "unixReviewTime": 1000}), "field 'reviewerID'"),
        (review(time="yesterday"), "an integer field 'unixReviewTime'"),
        (review(time=1000.5), "an integer field 'unixReviewTime'"),
        (review(user=""), "non-empty string field 'reviewerID'"),
    ],
)
def test_bad_review_line_names_file_line_and_expectation(write_file, line: str, expected: str):
    path = write_file("reviews_Beauty_5.json.gz", [review(), "", line])
    with pytest.raises(DataFormatError) as caught:
        read_source(Amazon2014Source(reviews=path))
    message = str(caught.value)
    assert f"{path}:3:" in message
    assert expected in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"asin": "B1", "title": "JSON, not Python", "is_new": true}', "Python dict literal"),
        ("__import__('os').system('echo pwned')", "Python dict literal"),
        ("['B1', 'title']", "Python dict literal"),
        ("{'asin': 'B1', 'categories': 'Beauty'}", "'categories' to be a list of lists"),
        ("{'asin': 'B1', 'title': ['not', 'text']}", "field 'title' to be a string"),
        ("{'title': 'no asin at all'}", "non-empty string field 'asin'"),
    ],
)
def test_bad_meta_line_names_file_line_and_expectation(write_file, line: str, expected: str):
    reviews = write_file("reviews.json", [review(asin="B1")])
    meta = write_file("meta_Beauty.json.gz", ["{'asin': 'B1', 'title': 'ok'}", line])
    with pytest.raises(DataFormatError) as caught:
        read_source(Amazon2014Source(reviews=reviews, meta=meta))
    assert f"{meta}:2:" in str(caught.value)
    assert expected in str(caught.value)


def test_malformed_meta_of_an_item_nobody_reviewed_is_skipped_unparsed(write_file):
    reviews = write_file("reviews.json", [review(asin="B1")])
    meta = write_file("meta.json", ["{'asin': 'B1', 'title': 'ok'}",
                                    "{'asin': 'B2', 'title': broken"])
    items = read_source(Amazon2014Source(reviews=reviews, meta=meta)).items
    assert items is not None and items["item_id"].to_list() == ["B1"]


def test_a_title_quoting_an_asin_does_not_hide_the_real_one(write_file):
    reviews = write_file("reviews.json", [review(asin="B000")])
    meta = write_file("meta.json", ["""{'title': "see 'asin': 'QQQ' here", 'asin': 'B000'}"""])
    items = read_source(Amazon2014Source(reviews=reviews, meta=meta)).items
    assert items is not None
    assert items.select("item_id", "title").rows() == [("B000", "see 'asin': 'QQQ' here")]


def test_truncated_gzip_is_reported_with_the_file(tmp_path: Path):
    path = tmp_path / "reviews_Beauty_5.json.gz"
    path.write_bytes(REVIEWS.read_bytes()[:-30])
    with pytest.raises(DataFormatError, match="a complete gzip file") as caught:
        read_source(Amazon2014Source(reviews=path))
    assert str(path) in str(caught.value)


def test_missing_reviews_file_is_reported(tmp_path: Path):
    path = tmp_path / "reviews_Nothing_5.json.gz"
    with pytest.raises(DataFormatError, match="the reviews file to exist") as caught:
        read_source(Amazon2014Source(reviews=path))
    assert str(path) in str(caught.value)
