"""The SASRec-style ``user item`` text file, plus an optional tab-separated items table.

This is the format of the SRA-CL authors' data (``../shared/datasets``): the file
order is chronological within each user, so the line number is the timestamp.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sracl_core.data.config import SasrecSource
from sracl_core.data.raw import RAW_INTERACTION_SCHEMA, TEXT_FIELDS, RawDataset, items_frame
from sracl_core.data.readers.files import no_rows
from sracl_core.data.readers.lines import numbered_lines
from sracl_core.data.readers.text_table import LINE_COLUMN, read_text_table
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
    The file may be gzipped and may start with a UTF-8 byte-order mark.
    """
    users: list[str] = []
    items: list[str] = []
    order: list[int] = []
    for line_number, line in numbered_lines(path, "the interactions file",
                                            encoding="utf-8-sig"):
        fields = line.split()
        if len(fields) != 2:
            raise DataFormatError(path, "two whitespace-separated fields 'user item'",
                                  line=line_number, got=line)
        for field, what in zip(fields, ("user", "item"), strict=True):
            if not (field.isascii() and field.isdigit()):  # isdigit alone takes '²' and '١'
                raise DataFormatError(path, f"a non-negative integer {what} id",
                                      line=line_number, got=field)
        users.append(fields[0])
        items.append(fields[1])
        order.append(line_number - 1)
    if not users:
        raise no_rows(path, "lines", "the interactions file")
    frame = pl.DataFrame(
        {"user_id": users, "item_id": items, "timestamp": order, "source_order": order},
        schema=RAW_INTERACTION_SCHEMA,
    )
    for column, what in (("user_id", "user"), ("item_id", "item")):
        _require_one_spelling(path, frame, column, what)
    return frame


def _require_one_spelling(path: Path, frame: pl.DataFrame, column: str, what: str) -> None:
    """Integer ids written two ways (``01060`` and ``1060``) would silently be two ids."""
    spellings = (frame.group_by(column, maintain_order=True)
                 .agg(pl.col("source_order").first())
                 .with_columns(pl.col(column).str.strip_chars_start("0").alias("value")))
    clashes = spellings.filter(pl.len().over("value") > 1).sort("source_order")
    if clashes.height:
        value = clashes["value"][0]
        first, second = clashes.filter(pl.col("value") == value).head(2).iter_rows(named=True)
        raise DataFormatError(
            path, f"each {what} id written one way (ids are integers)",
            line=second["source_order"] + 1,
            got=f"{second[column]}, which is {what} {first[column]} of line "
                f"{first['source_order'] + 1}")


def read_items_tsv(path: Path, id_column: str | None) -> pl.DataFrame:
    """Item text keyed by the token the interaction file uses; an id on two rows is an
    error naming both lines (which text is the item's would be a guess)."""
    table = read_text_table(path, separator="\t", what="the items file", with_lines=True)
    id_column = id_column or table.columns[0]
    if id_column not in table.columns or id_column == LINE_COLUMN:
        raise DataFormatError(path, f"a column named {id_column!r} in the header",
                              line=1, got="\t".join(table.columns[:-1]))
    repeated = table.filter(pl.col(id_column).is_duplicated())
    if repeated.height:
        first, second = repeated.filter(pl.col(id_column) == repeated[id_column][0]).head(2) \
            .iter_rows(named=True)
        raise DataFormatError(path, "one row for each item id", line=second[LINE_COLUMN],
                              got=f"item {second[id_column]} again (first on line "
                                  f"{first[LINE_COLUMN]})")
    columns: dict[str, list] = {"item_id": table[id_column].to_list()}
    for field in TEXT_FIELDS:
        if field in table.columns:
            columns[field] = table[field].to_list()
    if "price" in table.columns:
        columns["price"] = _parse_prices(path, table["price"].to_list(),
                                         table[LINE_COLUMN].to_list())
    return items_frame(columns)


def _parse_prices(path: Path, values: list[str | None], line_numbers: list[int]
                  ) -> list[float | None]:
    prices: list[float | None] = []
    for value, line_number in zip(values, line_numbers, strict=True):
        if value is None:
            prices.append(None)
            continue
        try:
            prices.append(float(value.lstrip("$").replace(",", "")))
        except ValueError:
            raise DataFormatError(path, "a numeric price", line=line_number,
                                  got=value) from None
    return prices
