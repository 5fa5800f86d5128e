"""The reader hand-off: its fixed schemas, item frames from partial text, record locations."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sracl_core.data.raw import RAW_INTERACTION_SCHEMA, RAW_ITEM_SCHEMA, RawDataset, items_frame

INTERACTIONS = pl.DataFrame({"user_id": ["u"], "item_id": ["i"], "timestamp": [5],
                             "source_order": [0]}, schema=RAW_INTERACTION_SCHEMA)


def test_an_item_frame_fills_the_text_a_source_lacks_with_nulls() -> None:
    items = items_frame({"item_id": ["a", "b"], "title": ["A", None]})
    assert dict(items.schema) == RAW_ITEM_SCHEMA
    assert items.row(0, named=True) == {"item_id": "a", "title": "A", "brand": None,
                                        "categories": None, "description": None,
                                        "price": None}


def test_a_reader_that_breaks_the_schema_is_caught_at_the_hand_off() -> None:
    with pytest.raises(TypeError, match="reader produced interactions with schema"):
        RawDataset(INTERACTIONS.cast({"timestamp": pl.Int32}), None, Path("x"), None)


def test_records_are_named_by_line_or_by_row() -> None:
    lines = RawDataset(INTERACTIONS, None, Path("x.txt"), None)
    rows = RawDataset(INTERACTIONS, None, Path("x.parquet"), None, line_of=None)
    shifted = RawDataset(INTERACTIONS, None, Path("x.csv"), None, line_of=lambda i: i + 2)
    assert lines.location(4) == {"line": 5}
    assert rows.location(4) == {"row": 5}
    assert shifted.location(4) == {"line": 6}  # a header line comes first
