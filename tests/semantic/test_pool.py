"""The neighbour-pool summary against shares counted by hand on two users."""

from __future__ import annotations

import polars as pl
import pytest

from sracl_core.semantic.pool import summarise_pool

TRAIN = {1: [1, 2, 3, 4], 2: [5, 2, 6]}
# every prefix of a training sequence predicts the next item
SAMPLES = pl.DataFrame(
    {"sample": [0, 1, 2, 3, 4], "user": [1, 1, 1, 2, 2],
     "prefix": [[1], [1, 2], [1, 2, 3], [5], [5, 2]], "target": [2, 3, 4, 2, 6]},
    schema={"sample": pl.Int64, "user": pl.Int32, "prefix": pl.List(pl.Int32),
            "target": pl.Int32})
SEQUENCES = pl.DataFrame({"user": list(TRAIN), "train": list(TRAIN.values())},
                         schema={"user": pl.Int32, "train": pl.List(pl.Int32)})


def _neighbours(lists: list[list[int]]) -> pl.DataFrame:
    return pl.DataFrame({"profile": range(len(lists)), "neighbours": lists},
                        schema={"profile": pl.Int64, "neighbours": pl.List(pl.Int64)})


def test_prefix_pool_counts_own_user_neighbours_that_hold_the_target():
    prompts = SAMPLES.select(pl.col("sample").alias("profile"), "user", "sample")
    sample_profiles = SAMPLES.select("sample", pl.col("sample").alias("profile"))
    # profile p is sample p; by hand, per sample (target): neighbour -> own? holds target?
    # 0 (2): 1 own [1,2] yes, 3 other [5] no      1 (3): 2 own [1,2,3] yes, 4 other no
    # 2 (4): 0 own no, 4 other no                 3 (2): 1 other [1,2] yes, 4 own [5,2] yes
    # 4 (6): 3 own no, 2 other no
    neighbours = _neighbours([[1, 3], [2, 4], [0, 4], [1, 4], [3, 2]])
    pool = summarise_pool(SAMPLES, sample_profiles, prompts, SEQUENCES, neighbours, max_len=20)
    assert (pool.samples, pool.k) == (5, 2)
    assert pool.own_user == pytest.approx(5 / 10)
    assert pool.own_user_target == pytest.approx(3 / 10)
    assert pool.other_user_target == pytest.approx(1 / 10)
    assert pool.samples_with_own_target == pytest.approx(3 / 5)


def test_user_pool_reads_each_neighbours_training_sequence_cut_to_max_len():
    prompts = pl.DataFrame({"profile": [0, 1], "user": [1, 2], "sample": [None, None]},
                           schema={"profile": pl.Int64, "user": pl.Int32, "sample": pl.Int64})
    sample_profiles = SAMPLES.select("sample", (pl.col("user") - 1).cast(pl.Int64)
                                     .alias("profile"))
    neighbours = _neighbours([[1], [0]])
    # targets 2, 3, 4 against user 2's [5, 2, 6]; targets 2, 6 against user 1's [1, 2, 3, 4]
    full = summarise_pool(SAMPLES, sample_profiles, prompts, SEQUENCES, neighbours, max_len=20)
    assert (full.own_user, full.own_user_target, full.samples_with_own_target) == (0, 0, 0)
    assert full.other_user_target == pytest.approx(2 / 5)
    # what L_CS encodes is the last max_len items: [2, 6] and [3, 4]
    cut = summarise_pool(SAMPLES, sample_profiles, prompts, SEQUENCES, neighbours, max_len=2)
    assert cut.other_user_target == pytest.approx(1 / 5)


def test_a_pool_without_neighbours_is_an_error():
    prompts = SAMPLES.select(pl.col("sample").alias("profile"), "user", "sample")
    with pytest.raises(ValueError, match="no training sample has neighbours"):
        summarise_pool(SAMPLES, SAMPLES.select("sample", pl.col("sample").alias("profile")),
                       prompts, SEQUENCES, _neighbours([]), max_len=20)
