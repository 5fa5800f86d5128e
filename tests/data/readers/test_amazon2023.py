"""Amazon 2023: JSON-lines reviews keyed by parent_asin, JSON-lines metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sracl_core.data.config import Amazon2023Source
from sracl_core.data.readers import read_source
from sracl_core.data.readers.lines import parse_price
from sracl_core.errors import DataFormatError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "amazon2023"
REVIEWS = FIXTURES / "All_Beauty.jsonl.gz"
META = FIXTURES / "meta_All_Beauty.jsonl.gz"
ANN, BO = "AGKHLEW2SOWHNMFQIJGBECAF7INQ", "AFQLNQNQYFWQZPJQZS6V3NZU4QBQ"


def review(**fields: object) -> str:
    record = {"user_id": "U1", "asin": "A1", "parent_asin": "P1", "timestamp": 1600000000000}
    record.update(fields)
    return json.dumps({key: value for key, value in record.items() if value is not None})


def meta(**fields: object) -> str:
    record = {"parent_asin": "P1", "title": "ok", "description": [], "categories": []}
    record.update(fields)
    return json.dumps(record)


def test_variants_collapse_to_their_parent_asin_and_milliseconds_are_kept():
    raw = read_source(Amazon2023Source(reviews=REVIEWS, meta=META))
    assert raw.interactions.rows() == [
        (ANN, "B07PARENT1", 1588687728923, 0),
        (BO, "B07PARENT1", 1588615855070, 1),
        (ANN, "B08ARGAN00", 1589665266052, 2),
        (ANN, "B09NAILKIT", 1588687728923, 3),
        (BO, "B08ARGAN00", 1643393630220, 4),
        (BO, "B09NAILKIT", 1600000000000, 5),
    ]


def test_meta_maps_store_to_brand_and_joins_lists():
    items = read_source(Amazon2023Source(reviews=REVIEWS, meta=META)).items
    assert items is not None
    assert items.rows() == [
        ("B07PARENT1", "Herbivore Sea Mist", "Herbivore", None,
         "Salt spray for texture. Made with coconut.", None),
        ("B08ARGAN00", "Argan Oil", None, "Beauty & Personal Care > Hair Care > Hair Oils",
         None, 24.99),
        ("B09NAILKIT", "Nail Kit", "Nailz", "Beauty & Personal Care > Foot, Hand & Nail Care",
         "Ten tools.", 7.5),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (24.99, 24.99), (3, 3.0), ("$1,299.00", 1299.0), ("None", None),
     ("—", None), (True, None)],
)
def test_price_values_seen_in_the_2023_dumps(value: object, expected: float | None):
    assert parse_price(value) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"user_id": "U1", "parent_asin": "P1", "timestamp": 16', "one JSON object a line"),
        (review(parent_asin=None), "non-empty string field 'parent_asin'"),
        (review(user_id=None), "non-empty string field 'user_id'"),
        (review(timestamp=1600000000000.5), "an integer field 'timestamp'"),
        (review(timestamp="2020-09-13"), "an integer field 'timestamp'"),
    ],
)
def test_bad_review_line_names_file_line_and_expectation(write_file, line: str, expected: str):
    path = write_file("All_Beauty.jsonl.gz", [review(), line])
    with pytest.raises(DataFormatError) as caught:
        read_source(Amazon2023Source(reviews=path))
    assert f"{path}:2:" in str(caught.value)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("not json", "one JSON object a line"),
        (meta(parent_asin=None), "non-empty string field 'parent_asin'"),
        (meta(description="one string"), "field 'description' to be a list of strings"),
        (meta(categories=[["nested"]]), "field 'categories' to be a list of strings"),
        (meta(store=7), "field 'store' to be a string"),
    ],
)
def test_bad_meta_line_names_file_line_and_expectation(write_file, line: str, expected: str):
    reviews = write_file("All_Beauty.jsonl", [review()])
    path = write_file("meta_All_Beauty.jsonl.gz", [meta(), "", "", line])
    with pytest.raises(DataFormatError) as caught:
        read_source(Amazon2023Source(reviews=reviews, meta=path))
    assert f"{path}:4:" in str(caught.value)
    assert expected in str(caught.value)


def test_invalid_utf8_is_reported_with_its_line(tmp_path: Path):
    path = tmp_path / "All_Beauty.jsonl"
    path.write_bytes(review().encode() + b"\n" + review(asin="A2").encode()[:-2] + b"\xff\"}\n")
    with pytest.raises(DataFormatError, match="utf-8 text") as caught:
        read_source(Amazon2023Source(reviews=path))
    assert f"{path}:2:" in str(caught.value)
