"""Prompts: item and user prompts from the training data, and the sample -> profile map."""

from __future__ import annotations

import logging

from sracl_core.semantic.prompts import build_item_prompts, build_user_prompts
from sracl_core.stages.runner import StageContext

log = logging.getLogger(__name__)


def run(context: StageContext) -> None:
    config = context.config.prompts
    items = context.input_table("ingest", "items")
    sequences = context.input_table("ingest", "sequences")
    samples = context.input_table("ingest", "train_samples")
    item_prompts = build_item_prompts(items, sequences, config, context.config.seed)
    users = build_user_prompts(items, sequences, samples, config)
    writer = context.writer
    writer.write_table("item_prompts", item_prompts)
    writer.write_table("user_prompts", users.user_prompts)
    writer.write_table("sample_profiles", users.sample_profiles)
    no_text_items = item_prompts.height - int(item_prompts["has_text"].sum())
    no_text_users = users.user_prompts.height - int(users.user_prompts["has_text"].sum())
    writer.stats.update(granularity=config.granularity, item_prompts=item_prompts.height,
                        user_prompts=users.user_prompts.height, no_text_items=no_text_items,
                        no_text_users=no_text_users)
    if no_text_items or no_text_users:
        log.warning("prompts: %d items and %d user profiles have no text; they get the id "
                    "fallback and are not sent to the LLM", no_text_items, no_text_users)
    log.info("prompts: %d item prompts, %d user prompts (%s granularity) -> %s",
             item_prompts.height, users.user_prompts.height, config.granularity,
             writer.directory)
