import polars as pl

from sracl_core.semantic.config import PromptsConfig
from sracl_core.semantic.prompts import build_item_prompts, build_user_prompts
from sracl_core.semantic.templates import NO_SEQUENCE

from .conftest import make_items


def _sequence_section(prompt: str) -> str:
    return prompt.split("ending with this item:")[1]


def test_no_validation_or_test_item_reaches_any_prompt(small_data):
    config = PromptsConfig()
    items = build_item_prompts(small_data["items"], small_data["sequences"], config, seed=1)
    for granularity in ("user", "prefix"):
        users = build_user_prompts(small_data["items"], small_data["sequences"],
                                   small_data["train_samples"],
                                   config.model_copy(update={"granularity": granularity}))
        for prompt in users.user_prompts["prompt"]:
            assert "VALID-ONLY" not in prompt and "TEST-ONLY" not in prompt
    for item, prompt in zip(items["item"], items["prompt"], strict=True):
        assert "VALID-ONLY" not in _sequence_section(prompt)
        assert "TEST-ONLY" not in _sequence_section(prompt)
        if item > 100:
            assert NO_SEQUENCE in prompt


def test_item_prompt_shows_existing_fields_cut_and_at_most_n_sequences(small_data):
    config = PromptsConfig(max_item_sequences=2, sequence_titles=2, description_chars=40,
                           domain="beauty products")
    prompts = build_item_prompts(small_data["items"], small_data["sequences"], config, seed=3)
    row = prompts.filter(pl.col("item") == 1).row(0, named=True)
    assert "beauty products" in row["system"]
    assert "Brand: Acme" in row["prompt"] and "Price: $12.50" in row["prompt"]
    description = next(line for line in row["prompt"].splitlines()
                       if line.startswith("Description: "))
    assert len(description) == len("Description: ") + 40
    lines = [line for line in _sequence_section(row["prompt"]).splitlines()
             if line[:1].isdigit()]
    assert len(lines) == 2
    for line in lines:
        titles = line.split(". ", 1)[1].split("; ")
        assert titles[-1] == "Train product 1" and len(titles) <= 2
    other = prompts.filter(pl.col("item") == 2).row(0, named=True)["prompt"]
    assert "Brand:" not in other and "Price:" not in other


def test_item_sampling_is_seeded_and_stable(small_data):
    config = PromptsConfig(max_item_sequences=1)
    args = (small_data["items"], small_data["sequences"], config)
    assert build_item_prompts(*args, seed=5).equals(build_item_prompts(*args, seed=5))
    differs = [not build_item_prompts(*args, seed=s).equals(build_item_prompts(*args, seed=5))
               for s in range(6, 16)]
    assert any(differs)


def test_user_granularity_maps_every_sample_to_its_users_row(small_data):
    tables = build_user_prompts(small_data["items"], small_data["sequences"],
                                small_data["train_samples"], PromptsConfig(max_user_titles=3))
    prompts, mapping = tables.user_prompts, tables.sample_profiles
    assert prompts["profile"].to_list() == list(range(prompts.height))
    assert prompts["sample"].null_count() == prompts.height
    assert mapping["sample"].to_list() == small_data["train_samples"]["sample"].to_list()
    joined = (mapping.join(small_data["train_samples"], on="sample")
              .join(prompts.select("profile", pl.col("user").alias("owner")), on="profile"))
    assert (joined["user"] == joined["owner"]).all()
    user4 = prompts.filter(pl.col("user") == 4)["prompt"].item()
    train4 = small_data["sequences"].filter(pl.col("user") == 4)["train"].item()
    expected = "; ".join(f"Train product {i}" for i in train4[-3:])
    assert f"Chosen products: {expected}\n" in user4


def test_prefix_granularity_has_one_row_per_sample_from_its_prefix(small_data):
    samples = small_data["train_samples"]
    tables = build_user_prompts(small_data["items"], small_data["sequences"], samples,
                                PromptsConfig(granularity="prefix"))
    prompts = tables.user_prompts
    assert prompts.height == samples.height
    assert tables.sample_profiles.join(prompts, on=["sample", "profile"]).height == samples.height
    for sample, prompt in zip(prompts["sample"], prompts["prompt"], strict=True):
        prefix = samples.filter(pl.col("sample") == sample)["prefix"].item()
        assert "Chosen products: " + "; ".join(f"Train product {i}" for i in prefix) + "\n" in (
            prompt)


def test_items_without_any_text_fall_back_to_their_id():
    items = make_items({1: None, 2: None, 3: "Has a title"})
    sequences = pl.DataFrame({"user": pl.Series([1], dtype=pl.Int32),
                              "train": pl.Series([[1, 2]], dtype=pl.List(pl.Int32)),
                              "valid": pl.Series([3], dtype=pl.Int32),
                              "test": pl.Series([3], dtype=pl.Int32)})
    samples = pl.DataFrame({"sample": pl.Series([0], dtype=pl.Int64),
                            "user": pl.Series([1], dtype=pl.Int32),
                            "prefix": pl.Series([[1]], dtype=pl.List(pl.Int32)),
                            "target": pl.Series([2], dtype=pl.Int32)})
    prompts = build_item_prompts(items, sequences, PromptsConfig(), seed=0)
    assert prompts["has_text"].to_list() == [False, False, True]
    assert "item A0001" in prompts["prompt"][0]
    users = build_user_prompts(items, sequences, samples, PromptsConfig()).user_prompts
    assert users["has_text"].to_list() == [False]
    assert users["titles"][0] == "item A0001; item A0002"
