"""Shared cleaning: metadata check, de-duplication, k-core, chronological order, re-indexing.

Every reader hands over a :class:`RawDataset`; what happens next is the same for
all of them, which is what makes results from different sources comparable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import polars as pl

from sracl_core.data.config import DataConfig
from sracl_core.data.raw import RawDataset, empty_items
from sracl_core.errors import DataFormatError, EmptyDatasetError

log = logging.getLogger(__name__)

MIN_USER_INTERACTIONS = 3
"""A user needs a training item, a validation item and a test item."""


@dataclass
class CleanDataset:
    """Interactions re-indexed from 1 (0 is padding), in chronological order per user."""

    interactions: pl.DataFrame
    items: pl.DataFrame
    users: pl.DataFrame
    stats: dict[str, float | int] = field(default_factory=dict)


def clean(raw: RawDataset, config: DataConfig) -> CleanDataset:
    """Metadata check, dedupe, k-core and dense re-indexing, each counted in ``stats``.

    An empty result is an error naming the input and the likely cause, since an
    empty dataset would otherwise fail much later as an opaque shape error.
    """
    stats: dict[str, float | int] = {"raw_interactions": raw.interactions.height}
    frame = _check_metadata(raw, config, stats)
    frame = _dedupe(frame, config.dedupe, stats)
    if frame.height == 0:
        raise EmptyDatasetError(
            f"{raw.interactions_path}: no interactions left after dropping the "
            f"{stats['dropped_missing_metadata']} whose items are not in {raw.items_path}; "
            f"check that both files use the same item ids (the interactions name items "
            f"like {raw.interactions['item_id'][0]!r}, the items file like "
            f"{_first_item(raw)!r})"
        )
    before = frame.height
    frame = k_core(frame, user_k=max(config.k_core, MIN_USER_INTERACTIONS), item_k=config.k_core)
    stats["dropped_by_k_core"] = before - frame.height
    if frame.height == 0:
        hint = ("lower data.k_core or check the input" if config.k_core > MIN_USER_INTERACTIONS
                else f"a user needs {MIN_USER_INTERACTIONS} interactions whatever data.k_core "
                     "is (one each to train, validate and test); check the input")
        raise EmptyDatasetError(
            f"{raw.interactions_path}: no interactions left after {config.k_core}-core filtering "
            f"(users need >= {max(config.k_core, MIN_USER_INTERACTIONS)} interactions, items "
            f">= {config.k_core}); {hint}"
        )
    frame = frame.sort(["user_id", "timestamp", "source_order"], maintain_order=True)
    interactions, users, item_ids = _reindex(frame)
    items = _item_table(item_ids, raw.items)
    n_users, n_items, n_actions = users.height, items.height, interactions.height
    stats.update(
        n_users=n_users,
        n_items=n_items,
        n_interactions=n_actions,
        avg_length=round(n_actions / n_users, 4),
        density=n_actions / (n_users * n_items),
        items_without_text=int(items["title"].is_null().sum()),
    )
    return CleanDataset(interactions, items, users, stats)


def k_core(frame: pl.DataFrame, *, user_k: int, item_k: int) -> pl.DataFrame:
    """Drop users and items below their thresholds until nothing changes.

    One pass is not enough: dropping a rare item can push a user below the
    threshold, which can push another item below it, and so on.
    """
    while True:
        filtered = frame.filter(
            (pl.len().over("user_id") >= user_k) & (pl.len().over("item_id") >= item_k)
        )
        if filtered.height == frame.height:
            return filtered
        frame = filtered


def _first_item(raw: RawDataset) -> str | None:
    return None if raw.items is None or raw.items.height == 0 else raw.items["item_id"][0]


def _check_metadata(raw: RawDataset, config: DataConfig,
                    stats: dict[str, float | int]) -> pl.DataFrame:
    frame = raw.interactions
    if raw.items is None:
        stats["dropped_missing_metadata"] = 0
        return frame
    known = raw.items["item_id"].unique()
    missing = frame.filter(~pl.col("item_id").is_in(known.implode()))
    stats["dropped_missing_metadata"] = missing.height
    if missing.height == 0:
        return frame
    if config.missing_metadata == "fail":
        first = missing.row(0, named=True)
        raise DataFormatError(
            raw.interactions_path,
            f"every item to have a row in {raw.items_path} ({missing.height} interactions do "
            "not; set data.missing_metadata=drop to drop them)",
            **raw.location(first["source_order"]), got=f"item {first['item_id']}",
        )
    log.warning("dropping %d of %d interactions (%.0f%%) whose items are not in %s, "
                "such as item %r (set data.missing_metadata=fail to stop instead)",
                missing.height, frame.height, 100 * missing.height / frame.height,
                raw.items_path, missing["item_id"][0])
    return frame.filter(pl.col("item_id").is_in(known.implode()))


def _dedupe(frame: pl.DataFrame, mode: str, stats: dict[str, float | int]) -> pl.DataFrame:
    before = frame.height
    if mode == "exact":
        frame = frame.unique(["user_id", "item_id", "timestamp"], keep="first",
                             maintain_order=True)
    elif mode == "user_item":
        frame = (frame.sort(["timestamp", "source_order"])
                 .unique(["user_id", "item_id"], keep="first", maintain_order=True)
                 .sort("source_order"))
    stats["dropped_duplicates"] = before - frame.height
    if stats["dropped_duplicates"]:
        log.info("ingest: dropped %d repeated interactions (data.dedupe=%s)",
                 stats["dropped_duplicates"], mode)
    return frame


def _reindex(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.Series]:
    """Number users and items from 1 in order of first appearance in the input.

    First appearance follows the source file, so a file that is already
    numbered this way (the SASRec-style files) keeps its ids.
    """
    in_source_order = frame.sort("source_order")
    user_ids = in_source_order["user_id"].unique(maintain_order=True)
    item_ids = in_source_order["item_id"].unique(maintain_order=True)
    user_map = pl.DataFrame({"user_id": user_ids,
                             "user": pl.int_range(1, len(user_ids) + 1, eager=True,
                                                  dtype=pl.Int32)})
    item_map = pl.DataFrame({"item_id": item_ids,
                             "item": pl.int_range(1, len(item_ids) + 1, eager=True,
                                                  dtype=pl.Int32)})
    interactions = (
        frame.join(user_map, on="user_id", maintain_order="left")
        .join(item_map, on="item_id", maintain_order="left")
        .sort(["user", "timestamp", "source_order"])
        .with_columns(position=pl.int_range(pl.len(), dtype=pl.Int32).over("user"))
        .select("user", "item", "timestamp", "position",
                pl.col("user_id").alias("original_user"),
                pl.col("item_id").alias("original_item"))
    )
    users = (interactions.group_by("user", maintain_order=True)
             .agg(pl.col("original_user").first().alias("original_id"),
                  pl.len().cast(pl.Int32).alias("n_interactions"))
             .sort("user"))
    return interactions, users, item_ids


def _item_table(item_ids: pl.Series, raw_items: pl.DataFrame | None) -> pl.DataFrame:
    frame = pl.DataFrame({"item": pl.int_range(1, len(item_ids) + 1, eager=True, dtype=pl.Int32),
                          "original_id": item_ids})
    if raw_items is None:
        raw_items = empty_items()
    text = raw_items.unique("item_id", keep="first").rename({"item_id": "original_id"})
    return frame.join(text, on="original_id", how="left", maintain_order="left")
