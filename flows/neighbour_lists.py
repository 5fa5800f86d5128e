"""Human-readable neighbour lists, so a person can judge whether retrieval is semantic
(``sracl inspect neighbours``)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import polars as pl

from sracl_core.config import PipelineConfig
from sracl_core.errors import SraclError
from sracl_core.semantic.pool import PoolSummary, summarise_pool
from sracl_core.stages.graph import outputs_of
from sracl_core.stages.outputs import StageOutputs


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


def _neighbour_outputs(config: PipelineConfig) -> StageOutputs:
    outputs = outputs_of(config)
    outputs.require("neighbours", "neighbours", "sracl run --until neighbours")
    return outputs


def _short(text: str | None, limit: int = 160) -> str:
    text = " ".join(html.unescape(text or "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def item_neighbours(config: PipelineConfig, item: int) -> NeighbourView:
    """An item's title and profile, then its neighbours' titles, scores and profiles."""
    tables = _neighbour_outputs(config)
    items = tables.table("ingest", "items").select("item", "title", "original_id")
    profiles = tables.table("profiles", "item_profiles").select("item", "summary", "text")
    info = items.join(profiles, on="item", how="left")
    lookup = {row["item"]: row for row in info.iter_rows(named=True)}
    found = tables.table("neighbours", "item_neighbours").filter(pl.col("item") == item)
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
    tables = _neighbour_outputs(config)
    titles = dict(tables.table("ingest", "items").select("item", "title").iter_rows())
    profiles = tables.table("profiles", "user_profiles")
    own = profiles.filter(pl.col("user") == user).sort("profile")
    if own.is_empty():
        raise SraclError(f"user {user} has no profile in this dataset")
    samples = tables.table("ingest", "train_samples").select("sample", "prefix")
    sequences = tables.table("ingest", "sequences").select("user", "train")
    originals = dict(tables.table("ingest", "users").select("user", "original_id").iter_rows())
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
    found = tables.table("neighbours", "user_neighbours").filter(pl.col("profile") == anchor)
    neighbours, scores = found.row(0)[1:]
    return NeighbourView(entry(anchor, None),
                         [entry(n, s) for n, s in zip(neighbours, scores, strict=True)])


def pool_summary(config: PipelineConfig) -> PoolSummary:
    """Where the training samples' profile neighbours come from (``sracl inspect pool``)."""
    tables = _neighbour_outputs(config)
    return summarise_pool(
        tables.table("ingest", "train_samples"), tables.table("prompts", "sample_profiles"),
        tables.table("prompts", "user_prompts"), tables.table("ingest", "sequences"),
        tables.table("neighbours", "user_neighbours"), config.data.max_len)
