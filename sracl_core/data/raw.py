"""The hand-off between a reader and the shared cleaning steps.

Every reader, whatever its on-disk format, produces the same two frames, so
de-duplication, k-core filtering and splitting are written once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

TEXT_FIELDS: tuple[str, ...] = ("title", "brand", "categories", "description")
"""Item text fields, in the order prompts show them (price is numeric and separate)."""

RAW_INTERACTION_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "item_id": pl.String(),
    "timestamp": pl.Int64(),
    "source_order": pl.Int64(),
}

RAW_ITEM_SCHEMA: dict[str, pl.DataType] = {
    "item_id": pl.String(),
    **{field: pl.String() for field in TEXT_FIELDS},
    "price": pl.Float64(),
}


LineOf = Callable[[int], int]
"""Maps a record's ``source_order`` to its 1-based line in the interactions file."""


def line_after_index(source_order: int) -> int:
    """The line of a record whose ``source_order`` is its 0-based line index.

    Line-oriented readers (SASRec text, JSON lines, MovieLens) number records so,
    which keeps this arithmetic exact even when the file has blank lines.
    """
    return source_order + 1


@dataclass(frozen=True)
class RawDataset:
    """Interactions with original string ids, plus item text when the source has any.

    ``source_order`` is the record's position in the input; it breaks timestamp
    ties so that the chronological order is stable and reproducible.
    ``line_of`` turns it back into the file's line number for error messages
    found after reading (a missing item, say); it is None for files without
    lines (Parquet), whose records are then named by 1-based row.
    """

    interactions: pl.DataFrame
    items: pl.DataFrame | None
    interactions_path: Path
    items_path: Path | None
    line_of: LineOf | None = line_after_index

    def __post_init__(self) -> None:
        _check_schema(self.interactions, RAW_INTERACTION_SCHEMA, "interactions")
        if self.items is not None:
            _check_schema(self.items, RAW_ITEM_SCHEMA, "items")

    def location(self, source_order: int) -> dict[str, int]:
        """``line=`` or ``row=`` keyword for a :class:`DataFormatError` about one record."""
        if self.line_of is None:
            return {"row": source_order + 1}
        return {"line": self.line_of(source_order)}


def empty_items() -> pl.DataFrame:
    return pl.DataFrame(schema=RAW_ITEM_SCHEMA)


def items_frame(columns: dict[str, list]) -> pl.DataFrame:
    """Build an item frame from whatever text columns a source has; the rest are null.

    A price that is not a finite amount of zero or more (``NaN``, ``inf``, ``-3`` in a
    dump) means unknown, and becomes null: prompts would otherwise print ``$nan``.
    """
    n_rows = len(columns["item_id"])
    data = {
        name: columns.get(name, [None] * n_rows) for name in RAW_ITEM_SCHEMA
    }
    price = pl.col("price")
    return pl.DataFrame(data, schema=RAW_ITEM_SCHEMA).with_columns(
        pl.when(price.is_finite() & (price >= 0)).then(price).otherwise(None).alias("price"))


def _check_schema(frame: pl.DataFrame, schema: dict[str, pl.DataType], what: str) -> None:
    actual = dict(frame.schema)
    if actual != schema:
        raise TypeError(f"reader produced {what} with schema {actual}, expected {schema}")
