"""Robust parsing of item-profile answers.

Small models (and APIs without constrained decoding) wrap JSON in code fences,
add text after it, use single quotes, vary the key spelling or stop mid-string
at the token limit. We accept all of that, and when nothing can be recovered
the raw text becomes the summary and the answer is flagged as a fallback (the
profiles stage counts and reports these).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

from sracl_core.semantic.templates import ITEM_ANALYSIS_KEY, ITEM_SUMMARY_KEY

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)(?:```|$)", re.DOTALL)


@dataclass(frozen=True)
class ItemAnswer:
    summary: str
    user_analysis: str
    fallback: bool


def _normalise_key(key: str) -> str:
    return re.sub(r"[^a-z]", "", key.lower())


_SUMMARY_KEYS = {_normalise_key(ITEM_SUMMARY_KEY), "summary", "itemsummary"}
_ANALYSIS_KEYS = {_normalise_key(ITEM_ANALYSIS_KEY), "useranalysis", "potentialusers",
                  "potentialuser", "analysis"}


def _candidates(text: str) -> list[str]:
    """Substrings that may hold the JSON object, most specific first."""
    found = [match.group(1) for match in _FENCE.finditer(text)]
    start = text.find("{")
    if start >= 0:
        end = text.rfind("}")
        found.append(text[start:end + 1] if end > start else text[start:])
    found.append(text)
    return found


def _load_object(candidate: str) -> dict | None:
    candidate = candidate.strip()
    if not candidate.startswith("{"):
        return None
    try:
        value = json.JSONDecoder().raw_decode(candidate)[0]
    except json.JSONDecodeError:
        try:
            value = ast.literal_eval(candidate)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return value if isinstance(value, dict) else None


def _pick(mapping: dict, keys: set[str]) -> str | None:
    for key, value in mapping.items():
        if isinstance(key, str) and _normalise_key(key) in keys and value is not None:
            text = " ".join(str(value).split())
            if text:
                return text
    return None


PARSER_VERSION = 2
"""Bump when a change here changes what some answer yields: it is part of the fingerprint
of LLM profiles (version 2: a value in double quotes no longer ends at an apostrophe)."""

_PARTIAL = r"""["']{key}["']\s*:\s*(["'])((?:(?!\1)[^\\]|\\.)*)"""


def _partial_field(text: str, key: str) -> str | None:
    """A field's value from JSON that was cut off (the token limit hit mid-answer)."""
    pattern = _PARTIAL.format(key=re.escape(key).replace(r"\ ", r"[\s_]"))
    match = re.search(pattern, text, re.IGNORECASE)
    if not match:
        return None
    value = " ".join(match.group(2).replace('\\"', '"').split())
    return value or None


def parse_item_answer(text: str) -> ItemAnswer | None:
    """The two fields of an item answer, or None when no summary can be recovered."""
    for candidate in _candidates(text):
        mapping = _load_object(candidate)
        if mapping is None:
            continue
        summary = _pick(mapping, _SUMMARY_KEYS)
        if summary:
            return ItemAnswer(summary, _pick(mapping, _ANALYSIS_KEYS) or "", fallback=False)
    summary = _partial_field(text, ITEM_SUMMARY_KEY)
    if summary:
        return ItemAnswer(summary, _partial_field(text, ITEM_ANALYSIS_KEY) or "", fallback=False)
    return None


def item_answer_or_fallback(text: str) -> ItemAnswer:
    """Parse, or keep the raw text as the summary and flag it."""
    parsed = parse_item_answer(text)
    if parsed is not None:
        return parsed
    return ItemAnswer(" ".join(text.split()), "", fallback=True)


def is_valid_item_answer(text: str) -> bool:
    return parse_item_answer(text) is not None


def is_valid_user_answer(text: str) -> bool:
    """A user answer is a paragraph: anything with a few words in it."""
    return len(text.split()) >= 3
