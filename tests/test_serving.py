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
