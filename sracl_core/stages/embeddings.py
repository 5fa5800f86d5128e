"""Embeddings: every item and user profile text -> one L2-normalised vector.

``user_embeddings`` keeps each profile's ``user`` so that the neighbours stage
can leave a user's own prefixes out of its neighbours without reading prompts.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from sracl_core.semantic.encoders import create_encoder
from sracl_core.stages.stage import Stage, config_section
from sracl_core.stages.tables import Table

if TYPE_CHECKING:
    from sracl_core.stages.context import StageContext

log = logging.getLogger(__name__)


def with_vectors(keys: pl.DataFrame, vectors: np.ndarray) -> pl.DataFrame:
    """The key columns plus ``vector``, a fixed-size float32 list column."""
    return keys.with_columns(pl.Series("vector", vectors.astype(np.float32),
                                       dtype=pl.Array(pl.Float32, vectors.shape[1])))


def run(context: StageContext) -> None:
    config = context.config.embeddings
    items = context.input_table("profiles", "item_profiles").sort("item")
    users = context.input_table("profiles", "user_profiles").sort("profile")
    encoder = create_encoder(config)
    started = time.perf_counter()
    texts = items["text"].to_list() + users["text"].to_list()
    vectors = encoder.encode(texts)
    seconds = time.perf_counter() - started
    writer = context.writer
    writer.write_table("item_embeddings",
                       with_vectors(items.select("item"), vectors[:items.height]))
    writer.write_table("user_embeddings",
                       with_vectors(users.select("profile", "user"), vectors[items.height:]))
    writer.stats.update(dim=encoder.dim, texts=len(texts), seconds=round(seconds, 2),
                        texts_per_s=round(len(texts) / max(seconds, 1e-9), 1))
    log.info("embeddings: %d texts -> %d-d vectors in %.1f s", len(texts), encoder.dim,
             seconds)


VECTOR = pl.Array(pl.Float32(), 1)
"""Any width: the embedding size is the encoder's."""
TABLES = {"item_embeddings": Table({"item": pl.Int32(), "vector": VECTOR}),
          "user_embeddings": Table({"profile": pl.Int64(), "user": pl.Int32(),
                                    "vector": VECTOR})}


STAGE = Stage("embeddings", inputs=("profiles",), code_version="1",
              section=config_section("embeddings"), run=run, tables=TABLES,
              device="accelerator")
