"""The LLM-free profiles (``profiles.backend: text``): item texts, user texts, schemas."""

from __future__ import annotations

import hashlib

import polars as pl

from sracl_core.semantic.config import PromptsConfig, PromptTemplates, VllmProfilesConfig
from sracl_core.semantic.profiles import (
    ITEM_PROFILE_SCHEMA,
    USER_PROFILE_SCHEMA,
    item_profiles,
    user_profiles,
)
from sracl_core.semantic.prompts import build_item_prompts, build_item_texts, build_user_prompts
from sracl_core.semantic.text_profiles import text_item_profiles, text_user_profiles

from .conftest import make_items

LONG_TITLE = "A very long product title that goes well past the forty characters of prompts"


def _texts(items: pl.DataFrame, **config: object) -> dict[int, str]:
    table = build_item_texts(items, PromptsConfig(**config))
    return dict(table.select("item", "text").iter_rows())


def test_item_text_is_the_full_name_then_the_other_fields_with_the_description_cut():
    items = make_items(
        {1: LONG_TITLE, 2: "Rose water.", 3: None, 4: None, 5: None, 6: "T" * 250},
        brand={1: "Acme", 3: "Glow"}, categories={1: "Beauty, Skin Care", 3: "Hair"},
        description={1: "d" * 100, 2: "Fresh  &amp; light", 3: "Shiny hair", 4: "e" * 100},
        price={1: 9.99})
    texts = _texts(items, description_chars=20, title_chars=10)
    assert texts[1] == f"{LONG_TITLE}. Acme. Beauty, Skin Care. {'d' * 17}..."
    assert texts[2] == "Rose water. Fresh & light"  # no doubled dot, HTML unescaped
    assert texts[3] == "Glow - Hair. Shiny hair"  # the fallback name holds brand and categories
    assert texts[4] == "e" * 77 + "..."  # named by its description: at least the name's 80
    assert texts[5] == "item A0005"
    assert texts[6] == "T" * 250  # the whole title: prompts cut it at 200
    assert "9.99" not in texts[1]
    assert _texts(items, description_chars=0)[1] == f"{LONG_TITLE}. Acme. Beauty, Skin Care"
    assert _texts(items, description_chars=200)[4] == "e" * 100
    names = dict(build_item_texts(items, PromptsConfig()).select("item", "name").iter_rows())
    assert names == {1: LONG_TITLE, 2: "Rose water.", 3: "Glow - Hair", 4: "e" * 77 + "...",
                     5: "item A0005", 6: "T" * 250}


def test_a_title_only_item_is_its_title_as_title_neighbours_embedded_it(small_data):
    texts = _texts(small_data["items"])
    assert texts[2] == "Train product 2"
    assert texts[1] == "Train product 1. Acme. " + "x" * 297 + "..."


def _user_texts(small_data, **config: object) -> pl.DataFrame:
    prompts_config = PromptsConfig(**config)
    items = small_data["items"]
    users = build_user_prompts(items, small_data["sequences"], small_data["train_samples"],
                               prompts_config).user_prompts
    return text_user_profiles(users, build_item_texts(items, prompts_config))


def test_user_text_is_the_last_training_names_newest_first(small_data):
    table = _user_texts(small_data, max_user_titles=3)
    texts = dict(table.select("user", "text").iter_rows())
    # user 4: train [3, 4, 5, 6, 2, 1]; validation 104 and test 204 never appear
    assert texts[4] == "Train product 1; Train product 2; Train product 6"
    assert texts[1] == "Train product 4; Train product 3; Train product 2"
    assert not any("VALID" in text or "TEST" in text for text in texts.values())
    everything = dict(_user_texts(small_data).select("user", "text").iter_rows())
    assert everything[4] == "; ".join(f"Train product {i}" for i in (1, 2, 6, 5, 4, 3))


def test_prefix_granularity_uses_each_prefix_newest_first(small_data):
    table = _user_texts(small_data, granularity="prefix")
    samples = small_data["train_samples"]
    assert table.height == samples.height
    prefixes = dict(samples.select("sample", "prefix").iter_rows())
    for sample, text in table.select("sample", "text").iter_rows():
        assert text == "; ".join(f"Train product {i}" for i in reversed(prefixes[sample]))


def test_users_get_full_names_and_fallback_names_not_the_cut_titles():
    from sracl_core.data.split import split_sequences, training_prefixes

    from .conftest import make_interactions

    items = make_items({1: LONG_TITLE, 2: None, 3: "Held out", 4: "Held out too"})
    sequences = split_sequences(make_interactions({1: [1, 2, 3, 4]}))
    samples = training_prefixes(sequences, max_len=5)
    config = PromptsConfig()
    users = build_user_prompts(items, sequences, samples, config).user_prompts
    assert users["items"].to_list() == [[1, 2]]
    assert LONG_TITLE not in users["titles"][0]  # the prompt's titles are cut to 40
    table = text_user_profiles(users, build_item_texts(items, config))
    assert table["text"].to_list() == [f"item A0002; {LONG_TITLE}"]


def test_tables_have_the_llm_paths_schema_and_no_generated_parts(small_data):
    config = PromptsConfig()
    items = small_data["items"]
    item_texts = build_item_texts(items, config)
    item_table = text_item_profiles(item_texts)
    user_table = _user_texts(small_data)
    assert item_table.schema == pl.Schema(ITEM_PROFILE_SCHEMA)
    assert user_table.schema == pl.Schema(USER_PROFILE_SCHEMA)
    assert item_table["text"].to_list() == item_texts["text"].to_list()
    for table in (item_table, user_table):
        assert not table["generated"].any() and not table["parse_fallback"].any()
    assert item_table["summary"].null_count() == item_table.height
    no_text = build_item_prompts(items, small_data["sequences"], config, seed=0).with_columns(
        has_text=False)
    llm = item_profiles(no_text, VllmProfilesConfig(), PromptTemplates(), {})
    assert llm.schema == item_table.schema
    users = build_user_prompts(items, small_data["sequences"], small_data["train_samples"],
                               config).user_prompts.with_columns(has_text=False)
    assert user_profiles(users, VllmProfilesConfig(), PromptTemplates(), {}).schema == (
        user_table.schema)


def _digest(frame: pl.DataFrame) -> str:
    digest = hashlib.sha256()
    for system, prompt in frame.select("system", "prompt").iter_rows():
        digest.update(system.encode() + b"\0" + prompt.encode() + b"\0")
    return digest.hexdigest()


def test_prompt_texts_are_byte_identical_to_before_the_text_backend(small_data):
    """LLM answers are cached by prompt text: a changed prompt is generated again. These
    digests were taken before the text backend's additions; change them only on purpose."""
    items, sequences = small_data["items"], small_data["sequences"]
    assert _digest(build_item_prompts(items, sequences, PromptsConfig(), seed=7)) == (
        "0374ff714464aedee58a622598497f27df1d8f1563845e64b3339571ad32da40")
    expected = {"user": "850f8af1de8ebcb02dbe95caae47e075e32bb428badc0fba91a3640239840117",
                "prefix": "b94faa25246e8a42e0fe20a1665f1953b3d4a416382078ffe1a72a2b17cd9aef"}
    for granularity, digest in expected.items():
        users = build_user_prompts(items, sequences, small_data["train_samples"],
                                   PromptsConfig(granularity=granularity)).user_prompts
        assert _digest(users) == digest
