"""Amazon Reviews 2023 (McAuley lab): ``<Category>.jsonl.gz`` + ``meta_<Category>.jsonl.gz``.

The item id is ``parent_asin``, not ``asin``: colour and size variants share a
parent, and the 2023 benchmark splits and the metadata are keyed by it, so
variants of one product are one item. Timestamps are kept in milliseconds as
published (only their order matters downstream).

Item text from the metadata:

- ``title`` as published; ``store`` becomes ``brand``;
- ``categories``: one path from broad to narrow, joined with ``" > "``;
- ``description``: a list of paragraphs, joined with a space;
- ``price``: a number, a numeric string (``"$12.99"``) or null; placeholder
  strings such as ``"None"`` or ``"—"`` become null.

Metadata rows of items that never occur in the reviews are skipped, which keeps
memory proportional to the reviewed items rather than to the whole catalogue.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sracl_core.data.config import Amazon2023Source
from sracl_core.data.raw import RAW_ITEM_SCHEMA, RawDataset, items_frame
from sracl_core.data.readers.lines import (
    numbered_lines,
    optional_str,
    optional_str_list,
    parse_json_object,
    parse_price,
    required_id,
)
from sracl_core.data.readers.reviews import read_review_lines

CATEGORY_LEVEL_SEPARATOR = " > "
DESCRIPTION_SEPARATOR = " "


def read_amazon2023(source: Amazon2023Source) -> RawDataset:
    interactions = read_review_lines(source.reviews, user_key="user_id",
                                     item_key="parent_asin", time_key="timestamp")
    items = None
    if source.meta is not None:
        wanted = set(interactions["item_id"].unique().to_list())
        items = read_meta_2023(source.meta, wanted)
    return RawDataset(interactions, items, source.reviews, source.meta)


def read_meta_2023(path: Path, wanted: set[str] | None = None) -> pl.DataFrame:
    """Item text for the ``wanted`` parent asins (all of them when ``wanted`` is None)."""
    columns: dict[str, list] = {name: [] for name in RAW_ITEM_SCHEMA}
    for line_number, line in numbered_lines(path, "the metadata file", encoding="utf-8-sig"):
        record = parse_json_object(path, line_number, line)
        item = required_id(record, "parent_asin", path, line_number)
        if wanted is not None and item not in wanted:
            continue
        columns["item_id"].append(item)
        columns["title"].append(optional_str(record, "title", path, line_number))
        columns["brand"].append(optional_str(record, "store", path, line_number))
        categories = optional_str_list(record, "categories", path, line_number)
        columns["categories"].append(CATEGORY_LEVEL_SEPARATOR.join(categories) or None)
        description = optional_str_list(record, "description", path, line_number)
        columns["description"].append(DESCRIPTION_SEPARATOR.join(description) or None)
        columns["price"].append(parse_price(record.get("price")))
    return items_frame(columns)
