"""Human-readable neighbour lists, so a person can judge whether retrieval is semantic."""

from __future__ import annotations

import html
from dataclasses import dataclass

import polars as pl

from sracl_core.config import PipelineConfig
from sracl_core.errors import SraclError
from sracl_core.stages.graph import stage_fingerprints, store_for


@dataclass(frozen=True)
class Entry:
    """One row of a neighbour list: what it is, how similar, and what it says."""

    id: int
    original_id: str
    label: str
    score: float | None
    detail: str


@dataclass(frozen=True)
class NeighbourView:
    anchor: Entry
    neighbours: list[Entry]


class _Tables:
    def __init__(self, config: PipelineConfig) -> None:
        self._store = store_for(config)
        self._fingerprints = stage_fingerprints(config)
        if not self._store.is_complete("neighbours", self._fingerprints["neighbours"]):
            raise SraclError("no neighbours computed for this config yet; run `sracl run "
                             "--until neighbours` with this config (and its --set overrides)")

    def read(self, stage: str, name: str) -> pl.DataFrame:
        return self._store.read_table(stage, self._fingerprints[stage], name)


def _short(text: str | None, limit: int = 160) -> str:
    text = " ".join(html.unescape(text or "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def item_neighbours(config: PipelineConfig, item: int) -> NeighbourView:
    """An item's title and profile, then its neighbours' titles, scores and profiles."""
    tables = _Tables(config)
    items = tables.read("ingest", "items").select("item", "title", "original_id")
    profiles = tables.read("profiles", "item_profiles").select("item", "summary", "text")
    info = items.join(profiles, on="item", how="left")
    lookup = {row["item"]: row for row in info.iter_rows(named=True)}
    found = tables.read("neighbours", "item_neighbours").filter(pl.col("item") == item)
    if found.is_empty():
        raise SraclError(f"internal item id {item} is not in this dataset (items are "
                         f"1..{len(lookup)})")

    def entry(item_id: int, score: float | None) -> Entry:
        row = lookup[item_id]
        label = _short(row["title"], 90) if row["title"] else f"item {row['original_id']}"
        return Entry(item_id, row["original_id"], label, score,
                     _short(row["summary"] or row["text"]))

    neighbours, scores = found.row(0)[1:]
    return NeighbourView(entry(item, None),
                         [entry(n, s) for n, s in zip(neighbours, scores, strict=True)])


def user_neighbours(config: PipelineConfig, user: int) -> NeighbourView:
    """A user's profile (its latest one at prefix granularity) and its neighbour profiles."""
    tables = _Tables(config)
    titles = dict(tables.read("ingest", "items").select("item", "title").iter_rows())
    profiles = tables.read("profiles", "user_profiles")
    own = profiles.filter(pl.col("user") == user).sort("profile")
    if own.is_empty():
        raise SraclError(f"user {user} has no profile in this dataset")
    samples = tables.read("ingest", "train_samples").select("sample", "prefix")
    sequences = tables.read("ingest", "sequences").select("user", "train")
    originals = dict(tables.read("ingest", "users").select("user", "original_id").iter_rows())
    trains = dict(sequences.iter_rows())
    prefixes = dict(samples.iter_rows())
    by_profile = {row["profile"]: row for row in profiles.iter_rows(named=True)}

    def entry(profile: int, score: float | None) -> Entry:
        row = by_profile[profile]
        history = prefixes[row["sample"]] if row["sample"] is not None else trains[row["user"]]
        recent = "; ".join(_short(titles.get(i), 40) for i in history[-3:])
        original = originals[row["user"]]
        return Entry(row["user"], original, f"user {original} (profile {profile}): ... {recent}",
                     score, _short(row["text"]))

    anchor = own["profile"][-1]
    found = tables.read("neighbours", "user_neighbours").filter(pl.col("profile") == anchor)
    neighbours, scores = found.row(0)[1:]
    return NeighbourView(entry(anchor, None),
                         [entry(n, s) for n, s in zip(neighbours, scores, strict=True)])
