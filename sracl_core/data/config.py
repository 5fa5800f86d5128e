"""Config of the ingest stage: where the raw data is and how it is filtered and split."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sracl_core.config_base import ConfigPath, StrictModel


class SasrecSource(StrictModel):
    """A ``user item`` text file (one interaction a line, chronological per user).

    The optional items table is tab-separated with a header; ``id_column`` holds
    the item token used in the interaction file, and any of ``title``, ``brand``,
    ``categories``, ``description``, ``price`` present become item text.
    """

    format: Literal["sasrec"] = "sasrec"
    interactions: ConfigPath
    items: ConfigPath | None = None
    id_column: str | None = Field(None, description="items id column; default: the first column")


class Amazon2014Source(StrictModel):
    """``reviews_<Category>_5.json.gz`` (JSON lines) and ``meta_<Category>.json.gz``.

    The 2014 metadata is one *Python literal* a line, not JSON.
    """

    format: Literal["amazon2014"] = "amazon2014"
    reviews: ConfigPath
    meta: ConfigPath | None = None


class Amazon2023Source(StrictModel):
    """``<Category>.jsonl.gz`` reviews and ``meta_<Category>.jsonl.gz`` (McAuley lab, 2023)."""

    format: Literal["amazon2023"] = "amazon2023"
    reviews: ConfigPath
    meta: ConfigPath | None = None


class MovieLensSource(StrictModel):
    """A MovieLens folder: 100K (``u.data``, ``u.item``) or 1M (``ratings.dat``, ``movies.dat``)."""

    format: Literal["movielens"] = "movielens"
    root: ConfigPath
    min_rating: float | None = Field(None, description="keep ratings >= this; None keeps all")


class ColumnMap(StrictModel):
    """Which input columns hold the interaction fields."""

    user: str = "user_id"
    item: str = "item_id"
    timestamp: str | None = "timestamp"


class ItemColumnMap(StrictModel):
    """Which item-table columns hold the item id and its text fields (None = absent)."""

    item: str = "item_id"
    title: str | None = "title"
    brand: str | None = None
    categories: str | None = None
    description: str | None = None
    price: str | None = None


class TableSource(StrictModel):
    """Any CSV/TSV/Parquet interaction table with a column mapping."""

    format: Literal["table"] = "table"
    interactions: ConfigPath
    items: ConfigPath | None = None
    columns: ColumnMap = ColumnMap()
    item_columns: ItemColumnMap = ItemColumnMap()
    separator: str | None = Field(
        None, min_length=1, max_length=1,
        description="CSV separator; default: a tab for .tsv files, a comma otherwise; "
        "ignored for Parquet",
    )


Source = Annotated[
    SasrecSource | Amazon2014Source | Amazon2023Source | MovieLensSource | TableSource,
    Field(discriminator="format"),
]


class DataConfig(StrictModel):
    """Ingest: read a source, clean it, split it leave-one-out and cut training prefixes."""

    source: Source
    k_core: int = Field(5, ge=1, description="users and items keep >= k interactions")
    dedupe: Literal["exact", "user_item", "none"] = Field(
        "exact",
        description="exact: drop repeated (user, item, timestamp); user_item: keep the first "
        "interaction of each (user, item) pair; none: keep everything",
    )
    missing_metadata: Literal["drop", "fail"] = Field(
        "drop",
        description="interactions whose item is absent from the items file: drop them "
        "(and report how many) or fail",
    )
    max_len: int = Field(20, ge=2, description="training prefixes keep their last max_len items")
