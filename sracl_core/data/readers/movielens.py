"""MovieLens 100K (``u.data``, ``u.item``, ``u.genre``) and 1M (``ratings.dat``, ``movies.dat``).

Which one a folder holds is told by its files: ``u.data`` means 100K,
``ratings.dat`` means 1M. Ratings become interactions (optionally only those
with ``rating >= min_rating``); timestamps are Unix seconds. The published movie
files are latin-1; a movie file that is valid UTF-8 (a re-saved copy) is read as
UTF-8, which latin-1 would turn into mojibake. Item text is the title as published
(``"Toy Story (1995)"``) and the genres, joined with ``", "`` into ``categories``. In
100K the genres are 0/1 flags named by ``u.genre``; without that file the published
genre list is used.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from sracl_core.data.config import MovieLensSource
from sracl_core.data.raw import RAW_INTERACTION_SCHEMA, RawDataset, items_frame
from sracl_core.data.readers.lines import fits_int64, numbered_lines, open_text
from sracl_core.errors import DataFormatError

GENRES_100K: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
"""The 19 genre flags of ``u.item``, in column order (as in ``u.genre``)."""

GENRE_SEPARATOR = ", "
_ITEM_FIELDS_BEFORE_GENRES = 5
"""``u.item``: id, title, release date, video release date, IMDb URL, then the flags."""

PUBLISHED_ENCODING = "latin-1"
RATINGS_FILES = ("u.data", "ratings.dat")


def read_movielens(source: MovieLensSource) -> RawDataset:
    root = source.root
    if (root / "u.data").is_file():
        ratings_path, items_path = root / "u.data", root / "u.item"
        interactions = read_ratings(ratings_path, "\t", source.min_rating)
        items = read_items_100k(items_path, read_genres_100k(root / "u.genre"))
    elif (root / "ratings.dat").is_file():
        ratings_path, items_path = root / "ratings.dat", root / "movies.dat"
        interactions = read_ratings(ratings_path, "::", source.min_rating)
        items = read_movies_1m(items_path)
    else:
        expected = "a MovieLens folder with u.data and u.item (100K) or ratings.dat and " \
                   "movies.dat (1M)"
        if not root.is_dir():
            raise DataFormatError(root, expected,
                                  got="a file" if root.exists() else "no such folder")
        for name in RATINGS_FILES:
            if (root / name).exists():
                raise DataFormatError(root / name, "a ratings file", got="not a regular file")
        found = sorted(p.name for p in root.iterdir())
        raise DataFormatError(root, f"{expected}; {table_hint(root, found)}",
                              got=f"files {found}")
    return RawDataset(interactions, items, ratings_path, items_path)


def table_hint(root: Path, found: list[str]) -> str:
    """How to read a folder of another layout: the ``table`` format with a column mapping.

    The later MovieLens releases (``ml-latest``, ``ml-25m``) are headed CSV
    files, which the ``table`` reader already reads, so they get a ready mapping.
    """
    if "ratings.csv" in found:
        example = (f"interactions: {root / 'ratings.csv'}, columns: {{user: userId, "
                   "item: movieId, timestamp: timestamp}")
        if "movies.csv" in found:
            example += (f", items: {root / 'movies.csv'}, item_columns: {{item: movieId, "
                        "title: title, categories: genres}")
    else:
        example = "interactions: <file>, columns: {user: <column>, item: <column>, " \
                  "timestamp: <column>}"
    return f"to read another layout, use format: table with a column mapping: " \
           f"data.source: {{format: table, {example}}}"


def read_ratings(path: Path, separator: str, min_rating: float | None) -> pl.DataFrame:
    """``user item rating timestamp`` records; ``source_order`` is the 0-based line index."""
    users: list[str] = []
    items: list[str] = []
    times: list[int] = []
    order: list[int] = []
    shape = f"4 {separator!r}-separated fields 'user{separator}item{separator}rating" \
            f"{separator}timestamp'"
    ratings = 0
    for line_number, fields in _split_lines(path, separator, "the ratings file",
                                                encoding=PUBLISHED_ENCODING):
        if len(fields) != 4:
            raise DataFormatError(path, shape, line=line_number, got=separator.join(fields))
        user, item, rating, timestamp = (field.strip() for field in fields)
        _require_digits(path, line_number, user, "user id")
        _require_digits(path, line_number, item, "movie id")
        _require_digits(path, line_number, timestamp, "Unix timestamp")
        if not fits_int64(int(timestamp)):
            raise DataFormatError(path, "a Unix timestamp that fits in 64 bits",
                                  line=line_number, got=timestamp)
        try:
            value = float(rating)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise DataFormatError(path, "a numeric rating", line=line_number, got=rating)
        ratings += 1
        if min_rating is not None and value < min_rating:
            continue
        users.append(user)
        items.append(item)
        times.append(int(timestamp))
        order.append(line_number - 1)
    if ratings and not users:
        raise DataFormatError(path, f"ratings >= data.source.min_rating ({min_rating})",
                              got=f"none among its {ratings} ratings")
    return pl.DataFrame(
        {"user_id": users, "item_id": items, "timestamp": times, "source_order": order},
        schema=RAW_INTERACTION_SCHEMA,
    )


def read_genres_100k(path: Path) -> tuple[str, ...]:
    """Genre names by flag position from ``u.genre`` (``name|index``), or the built-in list."""
    if not path.is_file():
        return GENRES_100K
    by_index: dict[int, str] = {}
    for line_number, fields in _split_lines(path, "|", "the genre file"):
        if len(fields) != 2 or not (fields[1].strip().isascii() and fields[1].strip().isdigit()):
            raise DataFormatError(path, "'name|index' with an integer index", line=line_number,
                                  got="|".join(fields))
        by_index[int(fields[1])] = fields[0]
    if sorted(by_index) != list(range(len(by_index))):
        raise DataFormatError(path, f"genre indices 0..{len(by_index) - 1} without gaps",
                              got=str(sorted(by_index)))
    return tuple(by_index[index] for index in range(len(by_index)))


def read_items_100k(path: Path, genres: tuple[str, ...]) -> pl.DataFrame:
    """``u.item``: ``id|title|release|video release|IMDb URL|flag|...|flag``."""
    n_fields = _ITEM_FIELDS_BEFORE_GENRES + len(genres)
    ids: list[str] = []
    titles: list[str | None] = []
    categories: list[str | None] = []
    for line_number, fields in _split_lines(path, "|", "the movie file u.item"):
        if len(fields) != n_fields:
            raise DataFormatError(
                path, f"{n_fields} '|'-separated fields (id, title, release date, video "
                f"release date, IMDb URL and {len(genres)} genre flags)",
                line=line_number, got="|".join(fields))
        _require_digits(path, line_number, fields[0], "movie id")
        flags = fields[_ITEM_FIELDS_BEFORE_GENRES:]
        if any(flag not in ("0", "1") for flag in flags):
            raise DataFormatError(path, "genre flags that are 0 or 1", line=line_number,
                                  got="|".join(flags))
        ids.append(fields[0])
        titles.append(fields[1].strip() or None)
        names = [name for name, flag in zip(genres, flags, strict=True) if flag == "1"]
        categories.append(GENRE_SEPARATOR.join(names) or None)
    return items_frame({"item_id": ids, "title": titles, "categories": categories})


def read_movies_1m(path: Path) -> pl.DataFrame:
    """``movies.dat``: ``id::title::Genre|Genre``."""
    ids: list[str] = []
    titles: list[str | None] = []
    categories: list[str | None] = []
    for line_number, fields in _split_lines(path, "::", "the movie file movies.dat"):
        if len(fields) != 3:
            raise DataFormatError(path, "3 '::'-separated fields 'id::title::genres'",
                                  line=line_number, got="::".join(fields))
        _require_digits(path, line_number, fields[0], "movie id")
        ids.append(fields[0])
        titles.append(fields[1].strip() or None)
        names = [name for name in fields[2].split("|") if name.strip()]
        categories.append(GENRE_SEPARATOR.join(names) or None)
    return items_frame({"item_id": ids, "title": titles, "categories": categories})


def _split_lines(path: Path, separator: str, what: str, encoding: str | None = None
                 ) -> Iterator[tuple[int, list[str]]]:
    """Split lines; text files are sniffed for UTF-8 first, unless ``encoding`` is given (the
    ratings files hold digits only, and are the large ones: no extra pass over them)."""
    for line_number, line in numbered_lines(path, what, encoding=encoding or _encoding(path)):
        yield line_number, line.split(separator)


def _encoding(path: Path) -> str:
    """UTF-8 when the whole file decodes as UTF-8, else the published latin-1 (every byte
    decodes in latin-1, so a latin-1 file is never misread; the check costs one pass)."""
    try:
        with open_text(path, "utf-8") as stream:
            while stream.read(1 << 20):
                pass
    except (UnicodeDecodeError, OSError, EOFError):  # numbered_lines names any other problem
        return PUBLISHED_ENCODING
    return "utf-8"


def _require_digits(path: Path, line_number: int, value: str, what: str) -> None:
    if not (value.isascii() and value.isdigit()):
        raise DataFormatError(path, f"a non-negative integer {what}", line=line_number,
                              got=value)
