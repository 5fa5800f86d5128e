"""Prompts: item and user prompts from the training data, and the sample -> profile map.

Besides the prompts it writes ``item_texts`` (every item's full name and plain
text) and the ``items`` of each user prompt, which ``profiles.backend: text``
uses instead of an LLM; the prompt texts are the same either way.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import polars as pl

from sracl_core.semantic.prompts import build_item_prompts, build_item_texts, build_user_prompts
from sracl_core.semantic.text_profiles import TEXT_BACKEND
from sracl_core.stages.stage import Stage, seeded_section
from sracl_core.stages.tables import Table

if TYPE_CHECKING:
    from sracl_core.stages.context import StageContext

log = logging.getLogger(__name__)


def run(context: StageContext) -> None:
    config = context.config.prompts
    items = context.input_table("ingest", "items")
    sequences = context.input_table("ingest", "sequences")
    samples = context.input_table("ingest", "train_samples")
    item_prompts = build_item_prompts(items, sequences, config, context.config.seed)
    item_texts = build_item_texts(items, config)
    users = build_user_prompts(items, sequences, samples, config)
    writer = context.writer
    writer.write_table("item_prompts", item_prompts)
    writer.write_table("item_texts", item_texts)
    writer.write_table("user_prompts", users.user_prompts)
    writer.write_table("sample_profiles", users.sample_profiles)
    no_text_items = item_prompts.height - int(item_prompts["has_text"].sum())
    no_text_users = users.user_prompts.height - int(users.user_prompts["has_text"].sum())
    writer.stats.update(granularity=config.granularity, item_prompts=item_prompts.height,
                        user_prompts=users.user_prompts.height, no_text_items=no_text_items,
                        no_text_users=no_text_users)
    if no_text_items or no_text_users:
        # The artifact serves every profiles backend; the message names this run's.
        fate = ("their profiles are those names" if context.config.profiles.backend
                == TEXT_BACKEND else "they are not sent to the LLM")
        log.warning("prompts: %d items and %d user profiles have no text; they are named "
                    "'item <id>' and %s", no_text_items, no_text_users, fate)
    log.info("prompts: %d item prompts and texts, %d user prompts (%s granularity)",
             item_prompts.height, users.user_prompts.height, config.granularity)


TABLES = {
    "item_prompts": Table({"item": pl.Int32(), "system": pl.String(), "prompt": pl.String(),
                           "name": pl.String(), "has_text": pl.Boolean()}),
    "item_texts": Table({"item": pl.Int32(), "name": pl.String(), "text": pl.String()}),
    "user_prompts": Table({"profile": pl.Int64(), "user": pl.Int32(), "sample": pl.Int64(),
                           "system": pl.String(), "prompt": pl.String(),
                           "titles": pl.String(), "has_text": pl.Boolean(),
                           "items": pl.List(pl.Int32())}),
    "sample_profiles": Table({"sample": pl.Int64(), "profile": pl.Int64()}),
}


STAGE = Stage("prompts", inputs=("ingest",), code_version="2",
              section=seeded_section("prompts"), run=run, tables=TABLES)
