"""Review lines: one interaction each, in file order, its ``source_order`` the line index."""

from __future__ import annotations

from pathlib import Path

import pytest

from sracl_core.data.raw import RAW_INTERACTION_SCHEMA
from sracl_core.data.readers.reviews import read_review_lines
from sracl_core.errors import DataFormatError

KEYS = {"user_key": "reviewerID", "item_key": "asin", "time_key": "unixReviewTime"}


def test_reviews_become_interactions_whose_order_is_their_line(tmp_path: Path) -> None:
    path = tmp_path / "reviews.json"
    path.write_text('{"reviewerID": "U1", "asin": "A", "unixReviewTime": 30}\n\n'
                    '{"reviewerID": 7, "asin": "B", "unixReviewTime": "10"}\n')
    table = read_review_lines(path, **KEYS)
    assert dict(table.schema) == RAW_INTERACTION_SCHEMA
    assert table.rows() == [("U1", "A", 30, 0), ("7", "B", 10, 2)]  # line 3 -> index 2


def test_a_review_without_its_item_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "reviews.json"
    path.write_text('{"reviewerID": "U1", "asin": "A", "unixReviewTime": 30}\n'
                    '{"reviewerID": "U2", "unixReviewTime": 31}\n')
    with pytest.raises(DataFormatError, match=r"reviews.json:2: expected a non-empty string "
                                              r"field 'asin', got \"no 'asin' in fields"):
        read_review_lines(path, **KEYS)


def test_a_byte_order_mark_before_the_first_review_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "reviews.json"
    path.write_text('\ufeff{"reviewerID": "U1", "asin": "A", "unixReviewTime": 30}\n',
                    encoding="utf-8")
    assert read_review_lines(path, **KEYS).rows() == [("U1", "A", 30, 0)]
