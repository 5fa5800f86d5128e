"""Config of the ingest stage: where the raw data is and how it is filtered and split."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from sracl_core.config_base import ConfigPath, StrictModel
from sracl_core.registry import Registry

if TYPE_CHECKING:
    from sracl_core.data.raw import RawDataset


class SourceConfig(StrictModel):
    """Where one dataset's raw files are; each format subclasses it with its own fields."""

    format: str


Reader = Callable[[Any], "RawDataset"]
SOURCES: Registry[Reader] = Registry("data source", key="format")
"""``data.source.format`` names one of these. A reader for a new format plugs in from one
file: its source section (a :class:`SourceConfig`) and a function reading it into a
:class:`~sracl_core.data.raw.RawDataset`, registered with
``@SOURCES.register("name", ItsSource)``."""


class SasrecSource(SourceConfig):
    """A ``user item`` text file (one interaction a line, chronological per user).

    The optional items table is tab-separated with a header; ``id_column`` holds
    the item token used in the interaction file, and any of ``title``, ``brand``,
    ``categories``, ``description``, ``price`` present become item text.
    """

    format: Literal["sasrec"] = "sasrec"
    interactions: ConfigPath = Field(description="the `user item` file, one interaction a line")
    items: ConfigPath | None = Field(None, description="tab-separated items table with a "
                                                       "header (item text); None: ids only")
    id_column: str | None = Field(None, description="items id column; default: the first column")


class Amazon2014Source(SourceConfig):
    """``reviews_<Category>_5.json.gz`` (JSON lines) and ``meta_<Category>.json.gz``.

    The 2014 metadata is one *Python literal* a line, not JSON.
    """

    format: Literal["amazon2014"] = "amazon2014"
    reviews: ConfigPath = Field(description="reviews_<Category>_5.json.gz")
    meta: ConfigPath | None = Field(None, description="meta_<Category>.json.gz (item text); "
                                                      "None: ids only")


class Amazon2023Source(SourceConfig):
    """``<Category>.jsonl.gz`` reviews and ``meta_<Category>.jsonl.gz`` (McAuley lab, 2023)."""

    format: Literal["amazon2023"] = "amazon2023"
    reviews: ConfigPath = Field(description="<Category>.jsonl.gz")
    meta: ConfigPath | None = Field(None, description="meta_<Category>.jsonl.gz (item text); "
                                                      "None: ids only")


class MovieLensSource(SourceConfig):
    """A MovieLens folder: 100K (``u.data``, ``u.item``) or 1M (``ratings.dat``, ``movies.dat``)."""

    format: Literal["movielens"] = "movielens"
    root: ConfigPath = Field(description="the unpacked MovieLens folder (ml-100k or ml-1m)")
    min_rating: float | None = Field(None, description="keep ratings >= this; None keeps all")


class ColumnMap(StrictModel):
    """Which input columns hold the interaction fields: three different columns."""

    user: str = Field("user_id", description="column of the user id")
    item: str = Field("item_id", description="column of the item id")
    timestamp: str | None = Field("timestamp", description="column that orders a user's "
                                                           "interactions; None: file order")

    @model_validator(mode="after")
    def _distinct(self) -> ColumnMap:
        named = {"user": self.user, "item": self.item, "timestamp": self.timestamp}
        seen: dict[str, str] = {}
        for field, column in named.items():
            if column is None:
                continue
            if column in seen:
                raise ValueError(f"{seen[column]!r} and {field!r} both name column {column!r}; "
                                 "each needs its own column")
            seen[column] = field
        return self


class ItemColumnMap(StrictModel):
    """Which item-table columns hold the item id and its text fields (None = absent)."""

    item: str = Field("item_id", description="column of the item id")
    title: str | None = Field("title", description="column of the item's title")
    brand: str | None = Field(None, description="column of the brand")
    categories: str | None = Field(None, description="column of the categories")
    description: str | None = Field(None, description="column of the description")
    price: str | None = Field(None, description="column of the price")


def _unescape_character(value: object) -> object:
    """``\\t`` as typed on a command line (``--set data.source.separator=\\t``) is a tab."""
    return "\t" if value == "\\t" else value


OneCharacter = Annotated[str, BeforeValidator(_unescape_character),
                         StringConstraints(min_length=1, max_length=1)]
"""One character of a delimited file's syntax (a separator or a quote)."""


class TableSource(SourceConfig):
    """Any CSV/TSV/Parquet interaction table with a column mapping."""

    format: Literal["table"] = "table"
    interactions: ConfigPath = Field(description="CSV, TSV or Parquet table of interactions")
    items: ConfigPath | None = Field(None, description="CSV, TSV or Parquet table of item "
                                                       "text; None: ids only")
    columns: ColumnMap = ColumnMap()
    item_columns: ItemColumnMap = ItemColumnMap()
    separator: OneCharacter | None = Field(
        None,
        description="the one character between fields (a tab may be written \\t); "
        "default: a tab for .tsv files, a comma otherwise; ignored for Parquet",
    )
    items_separator: OneCharacter | None = Field(
        None,
        description="the items file's separator when it differs from the interactions "
        "file's; default: separator, else the items file's own suffix rule",
    )
    quote: OneCharacter | None = Field(
        '"',
        description="the one character that quotes (RFC 4180: a field that starts with it "
        "ends with it, and doubles it inside); None: no quoting, every character is "
        "literal, as in a plain TSV whose titles hold inch marks",
    )

    @model_validator(mode="after")
    def _quote_is_not_a_separator(self) -> TableSource:
        if self.quote is not None and self.quote in (self.separator, self.items_separator):
            raise ValueError(f"quote {self.quote!r} is also a separator; a file cannot use "
                             "one character for both")
        return self


for _source, _reader in ((SasrecSource, "sasrec:read_sasrec"),
                        (Amazon2014Source, "amazon2014:read_amazon2014"),
                        (Amazon2023Source, "amazon2023:read_amazon2023"),
                        (MovieLensSource, "movielens:read_movielens"),
                        (TableSource, "table:read_table")):
    SOURCES.add(_source.model_fields["format"].default, _source,
                f"sracl_core.data.readers.{_reader}")


class DataConfig(StrictModel):
    """Ingest: read a source, clean it, split it leave-one-out and cut training prefixes."""

    source: SOURCES.choice(SourceConfig)  # type: ignore[valid-type]
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
