"""The SASRec-style ``user item`` text file, plus an optional tab-separated items table.

This is the format of the SRA-CL authors' data (``../shared/datasets``): the file
order is chronological within each user, so the line number is the timestamp.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sracl_core.data.config import SasrecSource
from sracl_core.data.raw import RAW_INTERACTION_SCHEMA, TEXT_FIELDS, RawDataset, items_frame
from sracl_core.data.readers.text_table import no_rows, read_text_table, require_file
from sracl_core.errors import DataFormatError


def read_sasrec(source: SasrecSource) -> RawDataset:
    interactions = read_user_item_lines(source.interactions)
    items = None
    if source.items is not None:
        items = read_items_tsv(source.items, source.id_column)
    return RawDataset(interactions, items, source.interactions, source.items)


def read_user_item_lines(path: Path) -> pl.DataFrame:
    """Parse ``user item`` lines; both ids must be integers (the format is numeric).

    ``source_order`` (and the timestamp) is the 0-based line index, so a later
    error about a record can name its line even when the file has blank lines.
    """
    require_file(path, "the interactions file")
    users: list[str] = []
    items: list[str] = []
    order: list[int] = []
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise DataFormatError(path, "two whitespace-separated fields 'user item'",
                                      line=line_number, got=line.rstrip("\n"))
            for field, what in zip(fields, ("user", "item"), strict=True):
                if not field.isdigit():
                    raise DataFormatError(path, f"a non-negative integer {what} id",
                                          line=line_number, got=field)
            users.append(fields[0])
            items.append(fields[1])
            order.append(line_number - 1)
    if not users:
        raise no_rows(path, "lines", "the interactions file")
    return pl.DataFrame(
        {"user_id": users, "item_id": items, "timestamp": order, "source_order": order},
        schema=RAW_INTERACTION_SCHEMA,
    )


def read_items_tsv(path: Path, id_column: str | None) -> pl.DataFrame:
    """Item text keyed by the token the interaction file uses."""
    table = read_text_table(path, separator="\t", what="the items file")
    id_column = id_column or table.columns[0]
    if id_column not in table.columns:
        raise DataFormatError(path, f"a column named {id_column!r} in the header",
                              line=1, got="\t".join(table.columns))
    columns: dict[str, list] = {"item_id": table[id_column].to_list()}
    for field in TEXT_FIELDS:
        if field in table.columns:
            columns[field] = [value or None for value in table[field].to_list()]
    if "price" in table.columns:
        columns["price"] = _parse_prices(path, table["price"].to_list())
    return items_frame(columns)


def _parse_prices(path: Path, values: list[str | None]) -> list[float | None]:
    prices: list[float | None] = []
    for row, value in enumerate(values, start=1):
        if value in (None, ""):
            prices.append(None)
            continue
        try:
            prices.append(float(value.lstrip("$").replace(",", "")))
        except ValueError:
            raise DataFormatError(path, "a numeric price", line=row + 1, got=value) from None
    return prices
