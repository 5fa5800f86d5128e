"""Amazon Reviews 2014 (McAuley lab): ``reviews_<Category>_5.json.gz`` and its metadata.

Reviews are JSON lines (``reviewerID``, ``asin``, ``unixReviewTime`` in seconds).
The metadata is one *Python literal* a line (it was written with ``repr``), so
it is parsed with ``ast.literal_eval``. Item text:

- ``title``, ``brand``, ``description``: as published;
- ``categories``: a list of category paths, each a list from broad to narrow;
  every path is joined with ``" > "`` and the paths with ``"; "``, e.g.
  ``"Beauty > Makeup > Face; Beauty > Tools"`` (``"; "`` because category names
  such as ``"Clothing, Shoes & Jewelry"`` contain commas);
- ``price``: a number, or null.

Only the metadata of items that occur in the reviews is parsed: the meta file
covers every product of the category (ten to a hundred times more than the
5-core reviews), and ``literal_eval`` is slow. A line whose ``asin`` cannot be
spotted cheaply is parsed in full, so malformed records of items we need are
still reported.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from sracl_core.data.config import Amazon2014Source
from sracl_core.data.raw import RAW_ITEM_SCHEMA, RawDataset, items_frame
from sracl_core.data.readers.lines import (
    numbered_lines,
    optional_str,
    parse_price,
    parse_python_literal,
    required_id,
)
from sracl_core.data.readers.reviews import read_review_lines
from sracl_core.errors import DataFormatError

CATEGORY_LEVEL_SEPARATOR = " > "
CATEGORY_PATH_SEPARATOR = "; "

_ASIN_PATTERN = re.compile(r"""['"]asin['"]\s*:\s*['"]([^'"]+)['"]""")


def read_amazon2014(source: Amazon2014Source) -> RawDataset:
    interactions = read_review_lines(source.reviews, user_key="reviewerID", item_key="asin",
                                     time_key="unixReviewTime")
    items = None
    if source.meta is not None:
        wanted = set(interactions["item_id"].unique().to_list())
        items = read_meta_2014(source.meta, wanted)
    return RawDataset(interactions, items, source.reviews, source.meta)


def read_meta_2014(path: Path, wanted: set[str] | None = None) -> pl.DataFrame:
    """Item text for the ``wanted`` asins (all of them when ``wanted`` is None)."""
    columns: dict[str, list] = {name: [] for name in RAW_ITEM_SCHEMA}
    for line_number, line in numbered_lines(path, "the metadata file", encoding="utf-8-sig"):
        # skip unparsed only when no asin-like text on the line is wanted: a title may quote
        # "'asin': 'X'" before the real key
        spotted = _ASIN_PATTERN.findall(line)
        if wanted is not None and spotted and wanted.isdisjoint(spotted):
            continue
        record = parse_python_literal(path, line_number, line)
        asin = required_id(record, "asin", path, line_number)
        if wanted is not None and asin not in wanted:
            continue
        columns["item_id"].append(asin)
        for field in ("title", "brand", "description"):
            columns[field].append(optional_str(record, field, path, line_number))
        columns["categories"].append(join_category_paths(record.get("categories"), path,
                                                         line_number))
        columns["price"].append(parse_price(record.get("price")))
    return items_frame(columns)


def join_category_paths(value: object, path: Path, line_number: int) -> str | None:
    """``[["A", "B"], ["A", "C"]]`` -> ``"A > B; A > C"`` (None when there are none)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(levels, list) and all(isinstance(level, str) for level in levels)
        for levels in value
    ):
        raise DataFormatError(path, "'categories' to be a list of lists of strings",
                              line=line_number, got=repr(value))
    paths = [CATEGORY_LEVEL_SEPARATOR.join(level.strip() for level in levels if level.strip())
             for levels in value]
    joined = CATEGORY_PATH_SEPARATOR.join(p for p in paths if p)
    return joined or None
