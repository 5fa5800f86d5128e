"""Prompts for datasets unlike Beauty: a film catalogue, and items known only by categories."""

from __future__ import annotations

import re

import polars as pl

from sracl_core.data.split import split_sequences, training_prefixes
from sracl_core.semantic.config import PromptsConfig
from sracl_core.semantic.prompts import build_item_prompts, build_user_prompts

from .conftest import make_interactions, make_items

HISTORIES = {1: [1, 2, 3, 4, 5, 6], 2: [2, 3, 1, 4, 6, 5], 3: [3, 1, 2, 5, 4, 6]}
RETAIL_WORDS = re.compile(r"\b(products?|customers?|purchase[ds]?|bought|brands?|shopping)\b",
                          re.IGNORECASE)


def _tables(items: pl.DataFrame, config: PromptsConfig):
    sequences = split_sequences(make_interactions(HISTORIES))
    samples = training_prefixes(sequences, max_len=20)
    item_prompts = build_item_prompts(items, sequences, config, seed=0)
    users = build_user_prompts(items, sequences, samples, config).user_prompts
    return item_prompts, users


def test_a_film_catalogue_reads_as_films_with_no_retail_words():
    films = make_items({1: "Alien (1979)", 2: "Heat (1995)", 3: "Amélie (2001)",
                        4: "Fargo (1996)", 5: "Up (2009)", 6: "Ran (1985)"},
                       categories={1: "Horror|Sci-Fi", 2: "Crime|Thriller", 3: "Comedy|Romance",
                                   4: "Crime|Drama", 5: "Animation", 6: "Drama|War"})
    item_prompts, users = _tables(films, PromptsConfig(domain="films"))
    for text in [*item_prompts["system"], *item_prompts["prompt"], *users["system"],
                 *users["prompt"]]:
        assert not RETAIL_WORDS.search(text), text
    assert "expert in films" in item_prompts["system"][0]
    assert "Categories: Horror|Sci-Fi" in item_prompts.filter(pl.col("item") == 1)["prompt"][0]
    assert "Sequences of films ending with this item" in item_prompts["prompt"][0]
    assert users["prompt"][0].startswith("Chosen films: ")
    assert "what this person likes in films" in users["prompt"][0]
    assert users["has_text"].all() and item_prompts["has_text"].all()


def test_items_with_only_categories_are_named_by_them_and_reach_the_llm():
    items = make_items({i: None for i in range(1, 7)},
                       categories={i: f"Outdoor > Camping > Tents {i}" for i in range(1, 7)})
    item_prompts, users = _tables(items, PromptsConfig(domain="sports goods"))
    assert item_prompts["has_text"].all() and users["has_text"].all()
    assert item_prompts.filter(pl.col("item") == 2)["name"][0] == "Outdoor > Camping > Tents 2"
    prompt = users.filter(pl.col("user") == 1)["prompt"][0]
    assert "Outdoor > Camping > Te" in prompt and "item A0" not in prompt
    assert "Title:" not in item_prompts["prompt"][0]


def test_a_brand_and_description_only_item_is_named_by_its_brand_then_described():
    items = make_items({1: None, 2: None, 3: "Has a title", 4: None, 5: None, 6: None},
                       brand={1: "Acme"}, description={2: "A long, careful description of it."})
    item_prompts, _ = _tables(items, PromptsConfig())
    names = dict(item_prompts.select("item", "name").iter_rows())
    assert names[1] == "Acme" and names[2] == "A long, careful description of it."
    assert names[3] == "Has a title" and names[4] == "item A0004"
    assert item_prompts.filter(pl.col("item") == 4)["has_text"][0] is False
