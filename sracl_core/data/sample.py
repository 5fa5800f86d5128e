"""Cut a small dense sample out of a large dataset (how the embedded default was made).

A uniform sample of users from a 5-core dataset is not 5-core: most items lose
almost all of their users. Restricting to the most popular titled items first
and then sampling users inside that dense block keeps real sequences (in their
original order) while surviving a fresh k-core filter.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sracl_core.data.preprocess import k_core
from sracl_core.data.raw import RAW_ITEM_SCHEMA, RawDataset
from sracl_core.errors import SraclError

_SEPARATORS = re.compile(r"[\t\r\n]+")


@dataclass(frozen=True)
class SampleSpec:
    n_users: int
    n_popular_items: int
    k_core: int
    seed: int


def dense_sample(raw: RawDataset, spec: SampleSpec) -> RawDataset:
    """Users (their interactions with popular titled items) that stay k-core after sampling."""
    frame = raw.interactions
    if raw.items is not None:
        titled = raw.items.filter(pl.col("title").is_not_null())["item_id"]
        frame = frame.filter(pl.col("item_id").is_in(titled.implode()))
    popular = frame["item_id"].value_counts(sort=True).head(spec.n_popular_items)["item_id"]
    frame = k_core(frame.filter(pl.col("item_id").is_in(popular.implode())),
                   user_k=spec.k_core, item_k=spec.k_core)
    users = frame["user_id"].unique(maintain_order=True).to_list()
    rng = random.Random(spec.seed)
    chosen = set(rng.sample(users, min(spec.n_users, len(users))))
    frame = k_core(frame.filter(pl.col("user_id").is_in(list(chosen))),
                   user_k=spec.k_core, item_k=spec.k_core).sort("source_order")
    if not frame.height:  # an empty sample was written as if it were one, failing only later
        raise SraclError(
            f"--users {spec.n_users}, --popular-items {spec.n_popular_items}: no interaction of "
            f"{raw.interactions_path} is left at {spec.k_core}-core (data.k_core); expected "
            f"more users or popular items")
    items = None
    if raw.items is not None:
        items = raw.items.filter(pl.col("item_id").is_in(frame["item_id"].unique().implode()))
    return RawDataset(frame, items, raw.interactions_path, raw.items_path, raw.line_of)


def write_sasrec(sample: RawDataset, folder: Path) -> list[str]:
    """Write a sample in the SASRec text format (+ items TSV) the ``sasrec`` reader reads.

    Every item column is written (not only the title): prompts use brand,
    categories, description and price too, and a sample that lost them would
    not behave like the dataset it was cut from. The format needs integer ids,
    so other ids are renumbered from 1 in order of first appearance, and the
    items table keeps the original id in an ``original_id`` column. Returns the
    items table's columns.
    """
    folder.mkdir(parents=True, exist_ok=True)
    frame = sample.interactions.select("user_id", "item_id")
    item_map: dict[str, str] | None = None
    if not _all_digits(frame["user_id"]) or not _all_digits(frame["item_id"]):
        users = _renumber(frame["user_id"])
        item_map = _renumber(frame["item_id"])
        frame = frame.with_columns(pl.col("user_id").replace_strict(users),
                                   pl.col("item_id").replace_strict(item_map))
    lines = [f"{u} {i}\n" for u, i in frame.iter_rows()]
    (folder / "interactions.txt").write_text("".join(lines), encoding="utf-8")
    if sample.items is None:
        return []
    items = sample.items
    header = list(RAW_ITEM_SCHEMA)
    if item_map is not None:
        items = items.filter(pl.col("item_id").is_in(list(item_map))).with_columns(
            pl.col("item_id").replace_strict(item_map), original_id=pl.col("item_id"))
        header.append("original_id")
    items = items.with_columns(pl.col("item_id").cast(pl.Int64)).sort("item_id")
    rows = ["\t".join(header) + "\n"] + [
        "\t".join(_tsv_field(value) for value in row) + "\n"
        for row in items.select(header).iter_rows()
    ]
    (folder / "items.tsv").write_text("".join(rows), encoding="utf-8")
    return header


def _all_digits(ids: pl.Series) -> bool:
    return bool(ids.str.contains(r"^[0-9]+$").all())


def _renumber(ids: pl.Series) -> dict[str, str]:
    """Original id -> ``"1"``, ``"2"``, ... in order of first appearance."""
    return {old: str(new) for new, old in enumerate(ids.unique(maintain_order=True), start=1)}


def _tsv_field(value: object) -> str:
    """One field of the unquoted TSV: null is empty; tabs and line breaks become spaces.

    The ``sasrec`` reader reads the table without quoting (so titles keep their
    quote marks), hence a separator inside a value cannot be escaped, only replaced.
    """
    if value is None:
        return ""
    text = repr(value) if isinstance(value, float) else str(value)
    return _SEPARATORS.sub(" ", text)
