"""Ingest: raw source -> interactions, items, users, sequences, training samples."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sracl_core.data.preprocess import clean
from sracl_core.data.readers import read_source
from sracl_core.data.split import split_sequences, training_prefixes
from sracl_core.stages.stage import Stage, config_section

if TYPE_CHECKING:
    from sracl_core.stages.context import StageContext

log = logging.getLogger(__name__)


def run(context: StageContext) -> None:
    data = context.config.data
    dataset = clean(read_source(data.source), data)
    sequences = split_sequences(dataset.interactions)
    samples = training_prefixes(sequences, data.max_len)
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


STAGE = Stage("ingest", inputs=(), code_version="1", section=config_section("data"), run=run)
