"""Top-K lists for known users from a trained model."""

from __future__ import annotations

import polars as pl
import pytest

from sracl_core.stages.graph import store_for


def test_serving_returns_titled_lists_without_history(trained):
    from sracl_core.errors import SraclError
    from sracl_core.serving import recommend_for_users

    config, outcomes = trained
    rows = recommend_for_users(config, [3, 1], top_k=4)
    assert rows["user"].to_list() == [3] * 4 + [1] * 4
    assert rows["rank"].to_list() == [1, 2, 3, 4] * 2
    assert rows["title"].null_count() == 0
    sequences = store_for(config).read_table("ingest", outcomes["ingest"].fingerprint,
                                             "sequences")
    history = sequences.filter(pl.col("user") == 3).select(
        pl.concat_list("train", "valid", "test"))["train"][0].to_list()
    assert not set(rows.filter(pl.col("user") == 3)["item"].to_list()) & set(history)
    with pytest.raises(SraclError, match=r"unknown internal user ids \[9999\]"):
        recommend_for_users(config, [1, 9999], top_k=2)


def test_a_list_longer_than_what_the_user_has_not_seen_holds_only_unseen_items(trained):
    """Before, -k 99 on a 99-item catalogue returned the user's own items at ranks 94-99,
    and -k 1000 failed with a polars ShapeError."""
    from sracl_core.serving import recommend_for_users

    config, outcomes = trained
    store = store_for(config)
    n_items = store.read_table("ingest", outcomes["ingest"].fingerprint, "items").height
    sequences = store.read_table("ingest", outcomes["ingest"].fingerprint, "sequences")
    seen = set(sequences.filter(pl.col("user") == 3).select(
        pl.concat_list("train", "valid", "test"))["train"][0].to_list())
    rows = recommend_for_users(config, [3], top_k=1000)
    assert rows["rank"].to_list() == list(range(1, n_items - len(seen) + 1))
    assert not set(rows["item"].to_list()) & seen
    everything = recommend_for_users(config, [3], top_k=1000, exclude_history=False)
    assert sorted(everything["item"].to_list()) == list(range(1, n_items + 1))


def test_a_bad_length_is_refused_and_a_repeated_user_gets_one_list(trained):
    from sracl_core.errors import SraclError
    from sracl_core.serving import recommend_for_users

    config, _ = trained
    for top_k in (0, -1):
        with pytest.raises(SraclError, match=rf"top_k: expected a list of at least 1 item, got "
                                             rf"{top_k}"):
            recommend_for_users(config, [3], top_k=top_k)
    rows = recommend_for_users(config, [3, 3, 1], top_k=2)
    assert rows["user"].to_list() == [3, 3, 1, 1]


def test_a_damaged_model_is_named_before_it_is_loaded(trained, tmp_path):
    """Before, a cut-off model file surfaced as a raw SafetensorError."""
    import shutil

    from sracl_core.errors import ArtifactCorrupt
    from sracl_core.serving import recommend_for_users

    config, outcomes = trained
    copy = config.model_copy(update={"cache_root": tmp_path / "cache"})
    shutil.copytree(config.cache_root, copy.cache_root)
    model_dir = store_for(copy).path("train", outcomes["train"].fingerprint) / "model"
    weights = next(path for path in model_dir.iterdir() if path.suffix == ".safetensors")
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ArtifactCorrupt) as raised:
        recommend_for_users(copy, [3], top_k=2)
    assert str(weights) in str(raised.value) and "moves the damaged artifact aside" \
        in str(raised.value)
