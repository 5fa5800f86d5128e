"""Item and user prompts, built from training sequences only.

Validation and test items never reach a prompt: item prompts show windows of
``sequences.train`` and user prompts show ``sequences.train`` (user
granularity) or a training prefix (prefix granularity). The reference code
builds its prefixes from the full sequence and so leaks the validation item;
we do not.

An item is named by its title; without one, by the other text it has (brand and
categories, else the start of its description), so a catalogue of categories or
genres alone still gives every prompt words to work with. Items with no text at
all (as in the Sports data) are named ``item <original_id>`` and their prompt
row has ``has_text = false``; the profiles stage does not ask the LLM about
them (a model can only invent a description) and uses the name as the profile.
A user none of whose items has any text is treated the same way.

The prompts stage also writes what the LLM-free ``profiles.backend: text``
needs, since prompts cut titles (to ``title_chars`` in lists, 200 characters in
an item's own text): ``item_texts`` (each item's whole title, else its fallback
name, and its text fields as one plain string, :func:`build_item_texts`) and,
on ``user_prompts``, the ``items`` of each profile (oldest first). The prompt
texts themselves do not depend on these additions: an LLM response cache is
keyed by them.
"""

from __future__ import annotations

import html
import random
from collections import defaultdict
from dataclasses import dataclass

import polars as pl

from sracl_core.semantic.config import PromptsConfig
from sracl_core.semantic.templates import NO_SEQUENCE

TEXT_FIELDS = ("title", "brand", "categories", "description", "price")
FULL_TITLE_CHARS = 200
FALLBACK_DESCRIPTION_CHARS = 80
"""An item without title, brand or categories is named by this much of its description."""


@dataclass(frozen=True)
class UserPromptTables:
    """``user_prompts`` (one row per profile) and ``sample_profiles`` (sample -> profile row)."""

    user_prompts: pl.DataFrame
    sample_profiles: pl.DataFrame


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(html.unescape(str(value)).split())
    return text or None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)].rstrip() + "..."


class ItemCatalog:
    """Item text fields by item id, with the display names used inside prompts."""

    def __init__(self, items: pl.DataFrame, title_chars: int) -> None:
        columns = [name for name in TEXT_FIELDS if name in items.columns]
        self._rows: dict[int, dict[str, object]] = {
            row["item"]: row for row in items.select("item", "original_id", *columns).iter_rows(
                named=True)
        }
        self._names = {item: self._name(row) for item, row in self._rows.items()}
        self._full = {item: _clean(row.get("title")) or self._names[item]
                      for item, row in self._rows.items()}
        self._short = {item: _cut(name, title_chars) for item, name in self._names.items()}

    @staticmethod
    def _name(row: dict[str, object]) -> str:
        title = _clean(row.get("title"))
        if title:
            return _cut(title, FULL_TITLE_CHARS)
        labels = [text for text in (_clean(row.get("brand")), _clean(row.get("categories")))
                  if text]
        if labels:
            return _cut(" - ".join(labels), FULL_TITLE_CHARS)
        description = _clean(row.get("description"))
        if description:
            return _cut(description, FALLBACK_DESCRIPTION_CHARS)
        return f"item {row['original_id']}"

    def name(self, item: int) -> str:
        """The item's title, or its fallback name (other text, else its id)."""
        return self._names[item]

    def full_name(self, item: int) -> str:
        """The whole title, not cut (the no-LLM profiles embed it); else the fallback name."""
        return self._full[item]

    def short_name(self, item: int) -> str:
        """The title cut to ``title_chars``, as listed in sequences (keeps prompts short)."""
        return self._short[item]

    def has_text(self, item: int) -> bool:
        row = self._rows[item]
        return any(row.get(name) is not None and _clean(row.get(name)) for name in TEXT_FIELDS)

    def describe(self, item: int, description_chars: int) -> str:
        """The item's text fields that exist, one per line."""
        row = self._rows[item]
        title = _clean(row.get("title"))
        lines = [f"Title: {_cut(title, FULL_TITLE_CHARS)}"] if title else []
        for label, name in (("Brand", "brand"), ("Categories", "categories")):
            value = _clean(row.get(name))
            if value:
                lines.append(f"{label}: {value}")
        description = _clean(row.get("description"))
        if description and description_chars > 0:
            lines.append(f"Description: {_cut(description, description_chars)}")
        price = row.get("price")
        if price is not None:
            lines.append(f"Price: ${float(price):.2f}")
        return "\n".join(lines)

    def text(self, item: int, description_chars: int) -> str:
        """The item as one plain string: its :meth:`full_name`, then the brand, categories
        and description (cut to ``description_chars``) it has that the name is not already
        made of. Price is left out (a number says little to a text encoder)."""
        row = self._rows[item]
        title, brand, categories, description = (
            _clean(row.get(name)) for name in ("title", "brand", "categories", "description"))
        parts: list[str | None] = [self._full[item]]
        if title:
            parts += [brand, categories]
        if description and (title or brand or categories):
            parts.append(_cut(description, description_chars) if description_chars else None)
        elif description:  # the name is the start of the description: show more of it
            parts = [_cut(description, max(description_chars, FALLBACK_DESCRIPTION_CHARS))]
        return _joined([part for part in parts if part])

    @property
    def items(self) -> list[int]:
        return sorted(self._rows)


def _joined(parts: list[str]) -> str:
    """Parts as sentences: ``a. b. c``; a part that ends in punctuation gets no extra dot."""
    text = ""
    for part in parts:
        if text:
            text += ("" if text[-1] in ".!?" else ".") + " "
        text += part
    return text


def build_item_texts(items: pl.DataFrame, config: PromptsConfig) -> pl.DataFrame:
    """``item, name, text``: the full name and the plain text of every item (no LLM)."""
    catalog = ItemCatalog(items, config.title_chars)
    rows = [(item, catalog.full_name(item), catalog.text(item, config.description_chars))
            for item in catalog.items]
    return pl.DataFrame(rows, schema={"item": pl.Int32, "name": pl.String, "text": pl.String},
                        orient="row")


def item_sequence_windows(sequences: pl.DataFrame, config: PromptsConfig,
                          seed: int) -> dict[int, list[list[int]]]:
    """Up to ``max_item_sequences`` training windows ending with each item, sampled.

    Each item's sample depends only on the seed, the item and the windows that
    contain it, so adding users changes only the prompts of the items they touch.
    """
    occurrences: dict[int, list[tuple[int, int]]] = defaultdict(list)
    trains: dict[int, list[int]] = {}
    for user, train in sequences.select("user", "train").iter_rows():
        trains[user] = train
        for position, item in enumerate(train):
            occurrences[item].append((user, position))
    windows: dict[int, list[list[int]]] = {}
    width = config.sequence_titles
    for item, places in occurrences.items():
        places.sort()
        if len(places) > config.max_item_sequences:
            places = random.Random(f"{seed}:{item}").sample(places, config.max_item_sequences)
            places.sort()
        windows[item] = [trains[user][max(0, position - width + 1): position + 1]
                         for user, position in places]
    return windows


def build_item_prompts(items: pl.DataFrame, sequences: pl.DataFrame, config: PromptsConfig,
                       seed: int) -> pl.DataFrame:
    """One prompt per item: ``item, system, prompt, name, has_text``.

    ``name`` is the title shown in prompts (or the id fallback); the profiles
    stage uses it to anchor the embedded text and as the no-text fallback.
    """
    catalog = ItemCatalog(items, config.title_chars)
    windows = item_sequence_windows(sequences, config, seed)
    templates = config.templates
    system = templates.item_system.format(domain=config.domain)
    rows = []
    for item in catalog.items:
        shown = windows.get(item, [])[: config.max_item_sequences]
        lines = [f"{n}. " + "; ".join(catalog.short_name(i) for i in window)
                 for n, window in enumerate(shown, start=1)]
        prompt = templates.item_instruction.format(
            item_text=catalog.describe(item, config.description_chars), domain=config.domain,
            sequences="\n".join(lines) if lines else NO_SEQUENCE,
        )
        rows.append((item, system, prompt, catalog.name(item), catalog.has_text(item)))
    return pl.DataFrame(rows, schema={"item": pl.Int32, "system": pl.String,
                                      "prompt": pl.String, "name": pl.String,
                                      "has_text": pl.Boolean}, orient="row")


def build_user_prompts(items: pl.DataFrame, sequences: pl.DataFrame,
                       train_samples: pl.DataFrame, config: PromptsConfig) -> UserPromptTables:
    """User prompts at the configured granularity, and every sample's profile row.

    ``user``: one row per user from its training sequence (last
    ``max_user_titles`` items); every sample of the user points to it.
    ``prefix``: one row per training sample from its own prefix.
    Columns: ``profile, user, sample, system, prompt, titles, has_text, items``
    (``titles`` is the no-text fallback; ``items`` the profile's item ids, oldest
    first, for the ``text`` profiles backend).
    """
    catalog = ItemCatalog(items, config.title_chars)
    system = config.templates.user_system.format(domain=config.domain)
    instruction = config.templates.user_instruction

    def prompt_row(item_list: list[int]) -> tuple[str, str, str, bool, list[int]]:
        titles = "; ".join(catalog.short_name(item) for item in item_list)
        return system, instruction.format(titles=titles, domain=config.domain), titles, any(
            catalog.has_text(item) for item in item_list), list(item_list)

    if config.granularity == "user":
        ordered = sequences.select("user", "train").sort("user")
        rows = [(profile, user, None, *prompt_row(train[-config.max_user_titles:]))
                for profile, (user, train) in enumerate(ordered.iter_rows())]
        user_prompts = _user_prompt_frame(rows)
        sample_profiles = (
            train_samples.select("sample", "user")
            .join(user_prompts.select("user", "profile"), on="user", how="left")
            .select("sample", "profile").sort("sample")
        )
    else:
        ordered = train_samples.select("sample", "user", "prefix").sort("sample")
        rows = [(profile, user, sample, *prompt_row(prefix))
                for profile, (sample, user, prefix) in enumerate(ordered.iter_rows())]
        user_prompts = _user_prompt_frame(rows)
        sample_profiles = user_prompts.select("sample", "profile")
    return UserPromptTables(user_prompts, sample_profiles)


def _user_prompt_frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"profile": pl.Int64, "user": pl.Int32, "sample": pl.Int64,
                                      "system": pl.String, "prompt": pl.String,
                                      "titles": pl.String, "has_text": pl.Boolean,
                                      "items": pl.List(pl.Int32)},
                        orient="row")
