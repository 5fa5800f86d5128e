"""JSON-lines review dumps (Amazon 2014 and 2023) -> raw interactions.

Both releases store one review a line and differ only in which keys hold the
user, the item and the time, so one streaming loop serves both.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sracl_core.data.raw import RAW_INTERACTION_SCHEMA
from sracl_core.data.readers.lines import (
    numbered_lines,
    parse_json_object,
    required_id,
    required_int,
)


def read_review_lines(path: Path, *, user_key: str, item_key: str,
                      time_key: str) -> pl.DataFrame:
    """One interaction per review; ``source_order`` is the 0-based line index.

    Using the line index (not a running count) keeps ``source_order + 1`` equal
    to the line number, so later errors about a record can point at its line.
    """
    users: list[str] = []
    items: list[str] = []
    times: list[int] = []
    order: list[int] = []
    for line_number, line in numbered_lines(path, "the reviews file", encoding="utf-8-sig"):
        record = parse_json_object(path, line_number, line)
        users.append(required_id(record, user_key, path, line_number))
        items.append(required_id(record, item_key, path, line_number))
        times.append(required_int(record, time_key, path, line_number))
        order.append(line_number - 1)
    return pl.DataFrame(
        {"user_id": users, "item_id": items, "timestamp": times, "source_order": order},
        schema=RAW_INTERACTION_SCHEMA,
    )
