"""Neighbours: top-k semantic neighbours of every item and every user profile."""

from __future__ import annotations

import logging
import time

import numpy as np
import polars as pl

from sracl_core.semantic.neighbours import top_k
from sracl_core.stages.runner import StageContext

log = logging.getLogger(__name__)


def neighbour_table(key: str, ids: np.ndarray, labels: np.ndarray, scores: np.ndarray,
                    id_dtype: pl.DataType) -> pl.DataFrame:
    """``key, neighbours (ids), scores``: row positions mapped back to ids."""
    return pl.DataFrame({
        key: pl.Series(ids).cast(id_dtype),
        "neighbours": pl.Series(ids[labels].tolist(), dtype=pl.List(id_dtype)),
        "scores": pl.Series(scores.astype(np.float32).tolist(), dtype=pl.List(pl.Float32)),
    })


def run(context: StageContext) -> None:
    config = context.config.neighbours
    items = context.input_table("embeddings", "item_embeddings").sort("item")
    users = context.input_table("embeddings", "user_embeddings").sort("profile")
    started = time.perf_counter()
    item_ids = items["item"].to_numpy()
    labels, scores = top_k(items["vector"].to_numpy(), config.k, config)
    item_table = neighbour_table("item", item_ids, labels, scores, pl.Int32)
    item_mean = float(scores.mean())
    groups = users["user"].to_numpy() if config.exclude_same_user else None
    profile_ids = users["profile"].to_numpy()
    labels, scores = top_k(users["vector"].to_numpy(), config.k, config, groups=groups)
    user_table = neighbour_table("profile", profile_ids, labels, scores, pl.Int64)
    seconds = time.perf_counter() - started
    writer = context.writer
    writer.write_table("item_neighbours", item_table)
    writer.write_table("user_neighbours", user_table)
    writer.stats.update(k=config.k, index=config.index, seconds=round(seconds, 3),
                        mean_item_score=round(item_mean, 4),
                        mean_user_score=round(float(scores.mean()), 4))
    log.info("neighbours: top-%d for %d items and %d user profiles in %.2f s -> %s", config.k,
             item_table.height, user_table.height, seconds, writer.directory)
