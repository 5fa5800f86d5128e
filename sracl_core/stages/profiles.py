"""Profiles: the LLM answers every prompt (through the response cache) -> profile tables.

With ``profiles.backend: text`` no LLM is involved: the profiles are the data's
own text (the prompts stage's ``item_texts`` and the ``items`` of each user
prompt, see :mod:`sracl_core.semantic.text_profiles`), in the same tables.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sracl_core.config import PipelineConfig
from sracl_core.config_base import fingerprint_payload
from sracl_core.semantic.backends.base import ChatRequest, LazyBackend
from sracl_core.semantic.cache import FOLDER as CACHE_FOLDER
from sracl_core.semantic.cache import ResponseCache
from sracl_core.semantic.generation import generate_cached
from sracl_core.semantic.parsing import (
    PARSER_VERSION,
    is_valid_item_answer,
    is_valid_user_answer,
)
from sracl_core.semantic.profiles import (
    ITEM_PROFILE_SCHEMA,
    USER_PROFILE_SCHEMA,
    item_profiles,
    item_requests,
    json_mode,
    user_profiles,
    user_requests,
)
from sracl_core.semantic.text_profiles import (
    TEXT_BACKEND,
    text_item_profiles,
    text_user_profiles,
)
from sracl_core.stages.stage import Stage
from sracl_core.stages.tables import Table

if TYPE_CHECKING:
    from sracl_core.stages.context import StageContext

log = logging.getLogger(__name__)


def llm_cache_dir(config: PipelineConfig) -> Path:
    """Shared by every dataset and fingerprint: a response depends only on model and prompt."""
    return Path(config.cache_root) / CACHE_FOLDER


def run(context: StageContext) -> None:
    item_prompts = context.input_table("prompts", "item_prompts")
    if item_prompts.height and not item_prompts["has_text"].any():
        log.warning("profiles: no item has text, so these profiles name items by id ('item "
                    "<id>') and semantic neighbours would compare ids, not meanings; "
                    "neighbours.source=collaborative retrieves neighbours from co-occurrence "
                    "in the training sequences instead")
    if context.config.profiles.backend == TEXT_BACKEND:
        run_text(context)
    else:
        run_llm(context)


def run_text(context: StageContext) -> None:
    """The "w/o LLM" profiles: item texts and users' item names, no backend created."""
    item_texts = context.input_table("prompts", "item_texts")
    item_table = text_item_profiles(item_texts)
    user_table = text_user_profiles(context.input_table("prompts", "user_prompts"), item_texts)
    writer = context.writer
    writer.write_table("item_profiles", item_table)
    writer.write_table("user_profiles", user_table)
    writer.stats.update(backend=TEXT_BACKEND, item_profiles=item_table.height,
                        user_profiles=user_table.height)
    log.info("profiles: %d item and %d user profiles from the data's own text (no LLM)",
             item_table.height, user_table.height)


def run_llm(context: StageContext) -> None:
    """Every prompt with text answered by the configured LLM backend, through the cache."""
    config = context.config.profiles
    item_prompts = context.input_table("prompts", "item_prompts")
    user_prompts = context.input_table("prompts", "user_prompts")
    templates = context.config.prompts.templates
    items = item_requests(item_prompts, config, templates)
    users = user_requests(user_prompts, config, templates)
    item_keys = {request.key for request in items}

    def validate(request: ChatRequest, text: str) -> bool:
        if request.key in item_keys:
            return is_valid_item_answer(text)
        return is_valid_user_answer(text)

    cache = ResponseCache(llm_cache_dir(context.config))
    backend = LazyBackend(config)
    try:
        answers, report = generate_cached(
            backend, items + users, cache, validate, batch_size=config.batch_size,
            max_attempts=config.max_attempts, retry_temperature=config.retry_temperature,
            label="profiles")
    finally:
        backend.close()
    item_table = item_profiles(item_prompts, config, templates, answers)
    user_table = user_profiles(user_prompts, config, templates, answers)
    writer = context.writer
    writer.write_table("item_profiles", item_table)
    writer.write_table("user_profiles", user_table)
    item_fallbacks = int(item_table["parse_fallback"].sum())
    user_fallbacks = int(user_table["parse_fallback"].sum())
    writer.stats.update(report.as_stats("llm"), backend=config.backend,
                        item_parse_fallbacks=item_fallbacks,
                        user_fallbacks=user_fallbacks, llm_cache=str(cache.directory))
    if item_fallbacks or user_fallbacks:
        log.warning("profiles: %d item answers were not valid JSON and %d user answers were "
                    "empty after %d tries; their raw text is used (parse_fallback = true)",
                    item_fallbacks, user_fallbacks, config.max_attempts)
    if report.generated:
        log.info("profiles: generated %d answers, %d tokens in %.0f s (%.1f tokens/s)",
                 report.generated, report.completion_tokens, report.seconds,
                 report.completion_tokens / max(report.seconds, 1e-9))
    log.info("profiles: %d item and %d user profiles", item_table.height, user_table.height)


def fingerprinted_settings(config: PipelineConfig) -> dict[str, Any]:
    """Text profiles depend on the prompts alone: the LLM settings do not enter them, so
    editing the model or its sampling re-runs nothing downstream of a text run."""
    if config.profiles.backend == TEXT_BACKEND:
        return {"backend": TEXT_BACKEND}
    # 'auto' resolves by device (free text on a CPU vLLM, JSON-schema decoding on a GPU),
    # and the two give different answers: the mode actually used is part of the output.
    return {**fingerprint_payload(config.profiles),
            "json_mode_resolved": json_mode(config.profiles), "answer_parsing": PARSER_VERSION}


TABLES = {"item_profiles": Table(ITEM_PROFILE_SCHEMA),
          "user_profiles": Table(USER_PROFILE_SCHEMA)}


STAGE = Stage("profiles", inputs=("prompts",), code_version="1",
              section=fingerprinted_settings, run=run, tables=TABLES,
              device="accelerator")
