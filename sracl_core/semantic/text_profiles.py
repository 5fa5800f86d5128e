"""Profiles without an LLM (``profiles.backend: text``): the paper's "w/o LLM" variant.

The text encoder embeds the data's own text instead of an LLM's answer:

- an item: its full name (the whole title, else the fallback name of
  :class:`~sracl_core.semantic.prompts.ItemCatalog`) and its other text fields,
  one plain string (the prompts stage's ``item_texts`` table);
- a user profile: the full names of its training items (at user granularity
  the last ``prompts.max_user_titles``, at prefix granularity the prefix),
  newest first and joined with "; ", so the encoder's token limit cuts the
  oldest.

This is what the former side script ``benchmarks/title_neighbours.py``
embedded for Beauty (titles only there), whose neighbours gave SRA-CL test
HR@10 .0880. Only training items
appear, as in the LLM prompts. The tables have the LLM path's schemas
(:data:`~sracl_core.semantic.profiles.ITEM_PROFILE_SCHEMA` and
:data:`~sracl_core.semantic.profiles.USER_PROFILE_SCHEMA`) with ``generated``
and ``parse_fallback`` false and ``summary``/``user_analysis`` null (nothing
was summarised; ``sracl inspect`` then shows the text itself). No LLM backend is
created and no LLM setting is read, so an item or user without any text works
too: it is its fallback name(s), ``item <id>``.
"""

from __future__ import annotations

import polars as pl

from sracl_core.semantic.profiles import ITEM_PROFILE_SCHEMA, USER_PROFILE_SCHEMA

TEXT_BACKEND = "text"
"""The ``profiles.backend`` value that selects this module instead of an LLM backend."""
USER_TEXT_SEPARATOR = "; "


def user_text(items: list[int], names: dict[int, str]) -> str:
    """The items' names, newest first (``items`` is oldest first, as sequences are)."""
    return USER_TEXT_SEPARATOR.join(names[item] for item in reversed(items))


def text_item_profiles(item_texts: pl.DataFrame) -> pl.DataFrame:
    """``item_profiles`` from ``item_texts`` (``item, name, text``): the text as is."""
    rows = [(item, text, None, None, False, False)
            for item, text in item_texts.select("item", "text").sort("item").iter_rows()]
    return pl.DataFrame(rows, orient="row", schema=ITEM_PROFILE_SCHEMA)


def text_user_profiles(user_prompts: pl.DataFrame, item_texts: pl.DataFrame) -> pl.DataFrame:
    """``user_profiles`` from ``user_prompts`` (its ``items`` column) and the items' names."""
    names = dict(item_texts.select("item", "name").iter_rows())
    rows = [(profile, user, sample, user_text(items, names), False, False)
            for profile, user, sample, items in user_prompts.select(
                "profile", "user", "sample", "items").sort("profile").iter_rows()]
    return pl.DataFrame(rows, orient="row", schema=USER_PROFILE_SCHEMA)
