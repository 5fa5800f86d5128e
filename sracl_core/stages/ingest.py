"""Ingest: raw source -> interactions, items, users, sequences, training samples."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import polars as pl

from sracl_core.data.preprocess import MIN_USER_INTERACTIONS, clean
from sracl_core.data.readers import read_source
from sracl_core.data.split import split_sequences, training_prefixes
from sracl_core.errors import EmptyDatasetError
from sracl_core.stages.stage import Stage, config_section
from sracl_core.stages.tables import Table

if TYPE_CHECKING:
    from sracl_core.stages.context import StageContext

log = logging.getLogger(__name__)


def run(context: StageContext) -> None:
    data = context.config.data
    raw = read_source(data.source)
    dataset = clean(raw, data)
    sequences = split_sequences(dataset.interactions)
    samples = training_prefixes(sequences, data.max_len)
    if samples.height == 0:  # found now, not after hours of profiles and embeddings
        raise EmptyDatasetError(
            f"{raw.interactions_path}: no training samples: each of the "
            f"{sequences.height} users has fewer than {MIN_USER_INTERACTIONS + 1} interactions "
            "after filtering (a training sample is a prefix and its next item, before the "
            "validation and test items)")
    writer = context.writer
    writer.write_table("interactions", dataset.interactions)
    writer.write_table("items", dataset.items)
    writer.write_table("users", dataset.users)
    writer.write_table("sequences", sequences)
    writer.write_table("train_samples", samples)
    writer.stats.update(dataset.stats, n_train_samples=samples.height)
    log.info("ingest: %d users, %d items, %d interactions, %d training samples",
             dataset.stats["n_users"], dataset.stats["n_items"],
             dataset.stats["n_interactions"], samples.height)


TABLES = {
    "interactions": Table({"user": pl.Int32(), "item": pl.Int32(), "timestamp": pl.Int64(),
                           "position": pl.Int32(), "original_user": pl.String(),
                           "original_item": pl.String()}),
    "items": Table({"item": pl.Int32(), "original_id": pl.String(), "title": pl.String(),
                    "brand": pl.String(), "categories": pl.String(),
                    "description": pl.String(), "price": pl.Float64()}),
    "users": Table({"user": pl.Int32(), "original_id": pl.String(),
                    "n_interactions": pl.Int32()}),
    "sequences": Table({"user": pl.Int32(), "train": pl.List(pl.Int32()), "valid": pl.Int32(),
                        "test": pl.Int32()}),
    "train_samples": Table({"sample": pl.Int64(), "user": pl.Int32(),
                            "prefix": pl.List(pl.Int32()), "target": pl.Int32()}),
}


STAGE = Stage("ingest", inputs=(), code_version="1", section=config_section("data"), run=run,
              tables=TABLES)
