"""Neighbours: the top-k neighbours of every item and every user profile.

The ``semantic`` source searches the embeddings stage's profile vectors (the
paper). The ``collaborative`` source (the ablation) makes vectors from the
training sequences alone and writes its profile vectors here as
``user_embeddings``, which the train stage's synthesizer reads instead of text
embeddings; the search, ``k`` and ``exclude_same_user`` are the same for both.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import torch
import torch.nn.functional as F

from sracl_core.config_base import fingerprint_payload
from sracl_core.rec.cooccurrence import cooccurrence_vectors
from sracl_core.rec.data import left_pad
from sracl_core.semantic.neighbours import top_k
from sracl_core.stages.embeddings import with_vectors
from sracl_core.stages.stage import Stage
from sracl_core.stages.tables import Table

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig
    from sracl_core.stages.context import StageContext

log = logging.getLogger(__name__)


def neighbour_table(key: str, ids: np.ndarray, labels: np.ndarray, scores: np.ndarray,
                    id_dtype: pl.DataType) -> pl.DataFrame:
    """``key, neighbours (ids), scores``: row positions mapped back to ids."""
    return pl.DataFrame({
        key: pl.Series(ids).cast(id_dtype),
        "neighbours": pl.Series(ids[labels].tolist(), dtype=pl.List(id_dtype)),
        "scores": pl.Series(scores.astype(np.float32).tolist(), dtype=pl.List(pl.Float32)),
    })


def collaborative_vectors(context: StageContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``item_embeddings`` and ``user_embeddings`` made without text, for the collaborative
    source: item vectors from the training sequences' transition counts, a profile's vector
    the mean of its items' vectors (both L2-normalised, so search is cosine as for text)."""
    config = context.config.neighbours
    samples = context.input_table("ingest", "train_samples").select("prefix", "target")
    n_items = context.input_table("ingest", "items").height
    vectors = cooccurrence_vectors(
        torch.from_numpy(samples["prefix"].list.last().cast(pl.Int64).to_numpy().copy()),
        torch.from_numpy(samples["target"].cast(pl.Int64).to_numpy().copy()), n_items,
        config.collaborative_dim)
    profiles = context.input_table("prompts", "user_prompts").select(
        "profile", "user", "items").sort("profile")
    padded = torch.from_numpy(left_pad(profiles["items"].to_list(), 1 + max(
        int(profiles["items"].list.len().max() or 0), 1)))
    means = vectors[padded].sum(1) / (padded > 0).sum(1, keepdim=True).clamp(min=1)
    items = pl.DataFrame({"item": pl.Series(range(1, n_items + 1), dtype=pl.Int32)})
    return (with_vectors(items, F.normalize(vectors[1:], dim=1).numpy()),
            with_vectors(profiles.select("profile", "user"), F.normalize(means, dim=1).numpy()))


def run(context: StageContext) -> None:
    config = context.config.neighbours
    started = time.perf_counter()
    if config.source == "collaborative":
        items, users = collaborative_vectors(context)
        context.writer.write_table("user_embeddings", users)
    else:
        items = context.input_table("embeddings", "item_embeddings").sort("item")
        users = context.input_table("embeddings", "user_embeddings").sort("profile")
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
    writer.stats.update(source=config.source, k=config.k, index=config.index,
                        seconds=round(seconds, 3), mean_item_score=round(item_mean, 4),
                        mean_user_score=round(float(scores.mean()), 4))
    log.info("neighbours: %s top-%d for %d items and %d user profiles in %.2f s",
             config.source, config.k, item_table.height, user_table.height, seconds)


def inputs(config: PipelineConfig) -> tuple[str, ...]:
    """Collaborative neighbours come from the training sequences, not from any text."""
    if config.neighbours.source == "collaborative":
        return ("ingest", "prompts")
    return ("embeddings",)


LEGACY_VALUES = {"train_points": 0, "rerank": 4}
"""Settings added after neighbours artifacts existed, and the value those artifacts were made
with: at that value a setting stays out of the fingerprint, so they keep theirs."""


def fingerprinted_settings(config: PipelineConfig) -> dict[str, Any]:
    section = config.neighbours
    payload = fingerprint_payload(section)
    if section.source != "collaborative":
        payload.pop("collaborative_dim")
    if section.index != "ivfpq":  # settings added with ivfpq: old fingerprints hold
        for name in ("pq_m", "pq_bits", "rerank"):
            payload.pop(name)
    if section.index not in ("ivf", "ivfpq"):
        payload.pop("train_points")
    for name, legacy in LEGACY_VALUES.items():
        if payload.get(name) == legacy:
            payload.pop(name)
    return payload


TABLES = {
    "item_neighbours": Table({"item": pl.Int32(), "neighbours": pl.List(pl.Int32()),
                              "scores": pl.List(pl.Float32())}),
    "user_neighbours": Table({"profile": pl.Int64(), "neighbours": pl.List(pl.Int64()),
                              "scores": pl.List(pl.Float32())}),
    # the collaborative source's profile vectors, which train reads instead of text ones
    "user_embeddings": Table({"profile": pl.Int64(), "user": pl.Int32(),
                              "vector": pl.Array(pl.Float32(), 1)}, optional=True),
}


STAGE = Stage("neighbours", inputs=inputs, code_version="1", section=fingerprinted_settings,
              run=run, tables=TABLES)
