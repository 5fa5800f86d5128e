"""Cut a small dense sample out of a large dataset (how the embedded default was made).

A uniform sample of users from a 5-core dataset is not 5-core: most items lose
almost all of their users. Restricting to the most popular titled items first
and then sampling users inside that dense block keeps real sequences (in their
original order) while surviving a fresh k-core filter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sracl_core.data.preprocess import k_core
from sracl_core.data.raw import RawDataset


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
    items = None
    if raw.items is not None:
        items = raw.items.filter(pl.col("item_id").is_in(frame["item_id"].unique().implode()))
    return RawDataset(frame, items, raw.interactions_path, raw.items_path)


def write_sasrec(sample: RawDataset, folder: Path) -> None:
    """Write a sample in the SASRec text format (+ items TSV) the ``sasrec`` reader reads."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{u} {i}\n" for u, i in sample.interactions.select("user_id", "item_id").iter_rows()]
    (folder / "interactions.txt").write_text("".join(lines), encoding="utf-8")
    if sample.items is not None:
        items = sample.items.with_columns(pl.col("item_id").cast(pl.Int64)).sort("item_id")
        rows = ["item_id\ttitle\n"] + [f"{i}\t{t}\n" for i, t in
                                       items.select("item_id", "title").iter_rows()]
        (folder / "items.tsv").write_text("".join(rows), encoding="utf-8")
