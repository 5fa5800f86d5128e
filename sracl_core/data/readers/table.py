"""Any CSV/TSV/Parquet interaction table, with the column names given in the config.

- Files ending in ``.parquet``/``.pq`` are Parquet; anything else is delimited
  text (gzip allowed) with a header, separated by ``source.separator``, or by a
  tab for ``.tsv`` files and a comma otherwise when it is not set (the items file
  by ``source.items_separator`` first), with fields quoted by ``source.quote``.
- Ids are kept as text (``"007"`` stays ``"007"``); integer ids are allowed, and so
  are whole floats (``1060.0`` is ``"1060"``: pandas writes an integer column with
  gaps as floats). An items table names each item once.
- Timestamps: integers are kept as they are (any unit: only their order
  matters); ISO 8601 datetimes (``2021-03-04``, ``2021-03-04T05:06:07``, with an
  optional UTC offset or ``Z``; Parquet datetime and date columns too) become
  microseconds since the Unix epoch, naive times read as UTC. One column holds
  integers or datetimes, not both: the two do not order against each other.
  Without a timestamp column, the row order is the time order.
- Item prices must be numeric (a leading ``$`` and thousands commas allowed).

Errors name the file's line (1-based, the header is line 1) for delimited
text, and the 1-based row for Parquet, which has no lines. A table with a
header and no rows is an error of its own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from sracl_core.data.config import TableSource
from sracl_core.data.raw import RAW_INTERACTION_SCHEMA, TEXT_FIELDS, RawDataset, items_frame
from sracl_core.data.readers.files import no_rows, require_file
from sracl_core.data.readers.lines import fits_int64, require_decodable
from sracl_core.data.readers.table_rows import TableRows, raise_quote_fault, raise_ragged_row
from sracl_core.errors import DataFormatError

PARQUET_SUFFIXES = (".parquet", ".pq")
_INTEGER = re.compile(r"-?[0-9]+")
_RENAMED_DUPLICATE = re.compile(r"(.+)_duplicated_[0-9]+")


def read_table(source: TableSource) -> RawDataset:
    interactions, rows = read_interaction_table(source)
    items = read_item_table(source.items, source) if source.items is not None else None
    line_of = None if rows.separator is None else rows.line_of
    return RawDataset(interactions, items, source.interactions, source.items, line_of)


def read_interaction_table(source: TableSource) -> tuple[pl.DataFrame, TableRows]:
    """The interactions, and where their rows are (for errors found after reading)."""
    path, columns = source.interactions, source.columns
    wanted = {"user": columns.user, "item": columns.item, "timestamp": columns.timestamp}
    required = {role: name for role, name in wanted.items() if name is not None}
    table, rows = load_table(path, source.separator, source.quote, list(required.values()),
                             "data.source.columns", what="the interactions table")
    order = pl.int_range(table.height, dtype=pl.Int64, eager=True)
    if columns.timestamp is None:
        timestamps = order
    else:
        timestamps = parse_timestamps(table[columns.timestamp], rows)
    frame = pl.DataFrame(
        {"user_id": id_values(table[columns.user], rows),
         "item_id": id_values(table[columns.item], rows),
         "timestamp": timestamps, "source_order": order},
        schema=RAW_INTERACTION_SCHEMA,
    )
    return frame, rows


def read_item_table(path: Path, source: TableSource) -> pl.DataFrame:
    """The items table under the mapped column names; a repeated item id is refused.

    Two rows for one item would give it two texts, and which one a profile saw would
    depend on row order, so the error names both lines instead.
    """
    mapping = source.item_columns
    fields = {"item_id": mapping.item, **{name: getattr(mapping, name)
                                          for name in (*TEXT_FIELDS, "price")}}
    present = {field: column for field, column in fields.items() if column is not None}
    table, rows = load_table(path, source.items_separator or source.separator, source.quote,
                             [mapping.item], "data.source.item_columns", what="the items table",
                             optional=tuple(c for f, c in present.items() if f != "item_id"))
    ids = id_values(table[mapping.item], rows)
    _require_unique(ids, rows)
    columns: dict[str, list] = {"item_id": ids.to_list()}
    for field in TEXT_FIELDS:
        if field in present:
            values = text_values(table[present[field]], rows).str.strip_chars()
            columns[field] = [value or None for value in values.to_list()]
    if "price" in present:
        columns["price"] = parse_prices(table[present["price"]], rows)
    return items_frame(columns)


def load_table(path: Path, separator: str | None, quote: str | None, required: list[str],
               config_key: str, what: str = "the table",
               optional: tuple[str, ...] = ()) -> tuple[pl.DataFrame, TableRows]:
    """The named columns of a table, and where its rows are in the file.

    A missing column is reported with the columns found; a table with no rows
    is reported here, since later it would only look like ids that never match.
    """
    require_file(path, what)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            table = pl.read_parquet(path)
        except Exception as error:  # polars and pyarrow raise several types here
            raise DataFormatError(path, "a readable Parquet file", got=str(error)) from None
        rows = TableRows(path, None)
    else:
        sep = separator or ("\t" if ".tsv" in (s.lower() for s in path.suffixes) else ",")
        rows = TableRows(path, sep, quote)
        table = _read_delimited(rows, required)
    for column in (*required, *optional):
        if column not in table.columns:
            if rows.separator is not None:
                require_decodable(path, what)  # a UTF-16 header reads as garbled names
            raise DataFormatError(
                path, f"a column named {column!r} (set by {config_key})",
                got=f"columns {table.columns}",
            )
    if _blank(table):
        raise no_rows(path, "parquet" if rows.separator is None else "header", what)
    extra = dict.fromkeys(c for c in optional if c not in required)  # two fields, one column
    return table.select(*required, *extra), rows


def text_values(column: pl.Series, rows: TableRows) -> pl.Series:
    """A text column as strings; numbers are allowed, nested values (lists) are not."""
    if column.dtype.is_nested():
        raise DataFormatError(rows.path, f"text or numbers in column {column.name!r}",
                              got=f"dtype {column.dtype}")
    return column.cast(pl.String)


def id_values(column: pl.Series, rows: TableRows) -> pl.Series:
    """Ids as non-empty text; a float column of whole numbers reads as integers."""
    if column.dtype.is_float() and bool((column.drop_nulls() % 1 == 0).all()):
        column = column.cast(pl.Int64)
    values = text_values(column, rows).str.strip_chars()
    bad = (values.is_null() | (values == "")).arg_true()
    if bad.len():
        index = int(bad[0])
        raise rows.error(f"a non-empty id in column {column.name!r}", index,
                         got=values[index])
    return values


def parse_timestamps(column: pl.Series, rows: TableRows) -> pl.Series:
    """Integers as they are; ISO 8601 datetimes as microseconds since the epoch (UTC)."""
    if column.dtype.is_integer():
        _require_no_nulls(column, rows)
        too_big = (column.cast(pl.Float64) >= 2.0**63).arg_true()
        if too_big.len():
            index = int(too_big[0])
            raise rows.error(f"an integer timestamp that fits in 64 bits in column "
                             f"{column.name!r}", index, got=str(column[index]))
        return column.cast(pl.Int64)
    if column.dtype == pl.Date:
        column = column.cast(pl.Datetime("us"))
    if isinstance(column.dtype, pl.Datetime):
        _require_no_nulls(column, rows)
        if column.dtype.time_zone is None:
            column = column.dt.replace_time_zone("UTC")
        return column.dt.epoch("us").cast(pl.Int64)
    if column.dtype != pl.String:
        raise DataFormatError(rows.path, f"integer or ISO 8601 datetime values in column "
                              f"{column.name!r}", got=f"dtype {column.dtype}")
    values = column.str.strip_chars().to_list()
    parsed: list[int] = []
    first_kind = None
    for index, value in enumerate(values):
        number = _timestamp_value(value)
        if number is None:
            raise rows.error(f"an integer or ISO 8601 datetime in column {column.name!r}",
                             index, got=value)
        if not fits_int64(number):
            raise rows.error(f"an integer timestamp that fits in 64 bits in column "
                             f"{column.name!r}", index, got=value)
        kind = "an integer" if _INTEGER.fullmatch(value or "") else "a datetime"
        if first_kind is None:
            first_kind = kind
        elif kind != first_kind:
            raise rows.error(f"{first_kind} timestamp in column {column.name!r}, like the "
                             "first row's (integers and datetimes do not order together)",
                             index, got=value)
        parsed.append(number)
    return pl.Series(column.name, parsed, dtype=pl.Int64)


def parse_prices(column: pl.Series, rows: TableRows) -> list[float | None]:
    if column.dtype.is_numeric():
        return column.cast(pl.Float64).to_list()
    prices: list[float | None] = []
    for index, value in enumerate(column.cast(pl.String).to_list()):
        if value is None or not value.strip():
            prices.append(None)
            continue
        try:
            prices.append(float(value.strip().lstrip("$").replace(",", "")))
        except ValueError:
            raise rows.error(f"a numeric price in column {column.name!r}", index,
                             got=value) from None
    return prices


def _timestamp_value(value: str | None) -> int | None:
    if not value:
        return None
    if _INTEGER.fullmatch(value):
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _require_unique(ids: pl.Series, rows: TableRows) -> None:
    """One row per item: which of two texts is the item's would be a guess."""
    repeated = ids.is_duplicated().arg_true()
    if repeated.len():
        item = ids[int(repeated[0])]
        first, second = (int(i) for i in (ids == item).arg_true()[:2])
        where = (f"line {rows.line_of(first)}" if rows.separator is not None
                 else f"row {first + 1}")
        raise rows.error("one row for each item id", second,
                         got=f"item {item!r} again (first on {where})")


def _require_no_nulls(column: pl.Series, rows: TableRows) -> None:
    nulls = column.is_null().arg_true()
    if nulls.len():
        raise rows.error(f"a timestamp in column {column.name!r}", int(nulls[0]), got="null")


def _blank(table: pl.DataFrame) -> bool:
    """No rows, or only blank lines (which Polars reads as rows of nulls)."""
    if table.height == 0 or not table.columns:
        return True
    return bool(table.select(pl.all_horizontal(pl.all().is_null())).to_series().all())


def _read_delimited(rows: TableRows, required: list[str]) -> pl.DataFrame:
    """All columns as text; malformed rows are reported by line.

    Polars rejects rows with too many fields or unpaired quotes and pads rows with too
    few fields with nulls, so any of these triggers (slower) scans that find the first
    undecodable line, unpaired quote or row whose field count differs from the header's.
    """
    path, separator = rows.path, rows.separator
    assert separator is not None
    try:
        table = pl.read_csv(path, separator=separator, quote_char=rows.quote,
                            infer_schema=False)
    except pl.exceptions.PolarsError as error:
        _locate_malformed_row(rows)
        raise DataFormatError(path, f"a {separator!r}-separated table with a header",
                              got=str(error).splitlines()[0]) from None
    _check_header(path, table.columns)
    if any(name in table.columns and table[name].null_count() for name in required):
        _locate_malformed_row(rows)
    return table


def _locate_malformed_row(rows: TableRows) -> None:
    assert rows.separator is not None
    require_decodable(rows.path, "the table")
    if rows.quote is not None:
        raise_quote_fault(rows.path, rows.separator, rows.quote)
    raise_ragged_row(rows.path, rows.separator, rows.quote)


def _check_header(path: Path, names: list[str]) -> None:
    """Polars renames a repeated column ``name_duplicated_0`` and reads a file whose lines
    end in a lone carriage return as one long header: both would otherwise pass unnoticed."""
    if any("\r" in name for name in names):
        raise DataFormatError(path, "lines that end in \\n or \\r\\n", line=1,
                              got="lines that end in a lone \\r (old Mac line endings)")
    renamed = (_RENAMED_DUPLICATE.fullmatch(name) for name in names)
    repeated = sorted({match.group(1) for match in renamed if match and match.group(1) in names})
    if repeated:
        raise DataFormatError(path, "a header whose column names differ", line=1,
                              got=f"{', '.join(map(repr, repeated))} more than once")
