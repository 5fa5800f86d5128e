"""Leave-one-out split and the training prefixes cut from each training sequence."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sracl_core.data.config import DataConfig, SasrecSource
from sracl_core.data.preprocess import clean
from sracl_core.data.readers import read_source
from sracl_core.data.split import split_sequences, training_prefixes


def interactions(sequences: dict[int, list[int]]) -> pl.DataFrame:
    """Clean-format interactions: each user's items at positions 0, 1, ..."""
    rows = [(user, item, position) for user, items in sequences.items()
            for position, item in enumerate(items)]
    return pl.DataFrame(rows, schema={"user": pl.Int32, "item": pl.Int32, "position": pl.Int32},
                        orient="row")


def test_last_item_is_test_second_last_is_validation():
    frame = interactions({2: [5, 6, 7, 8], 1: [3, 1, 2]})
    split = split_sequences(frame.reverse()).sort("user")
    assert split.rows() == [(1, [3], 1, 2), (2, [5, 6], 7, 8)]


def test_every_training_prefix_predicts_the_next_item():
    split = split_sequences(interactions({1: [10, 11, 12, 13, 14, 15]}))
    samples = training_prefixes(split, max_len=20)
    assert samples.select("user", "prefix", "target").rows() == [
        (1, [10], 11), (1, [10, 11], 12), (1, [10, 11, 12], 13)]
    assert samples["sample"].to_list() == [0, 1, 2]


def test_prefixes_keep_their_last_max_len_items():
    train_and_holdout = list(range(100, 110))  # train = 100..107
    samples = training_prefixes(split_sequences(interactions({1: train_and_holdout})),
                                max_len=3)
    assert samples.select("prefix", "target").rows() == [
        ([100], 101), ([100, 101], 102), ([100, 101, 102], 103), ([101, 102, 103], 104),
        ([102, 103, 104], 105), ([103, 104, 105], 106), ([104, 105, 106], 107)]


def test_a_user_with_three_items_has_no_training_sample():
    split = split_sequences(interactions({1: [1, 2, 3], 2: [4, 5, 6, 7]}))
    samples = training_prefixes(split, max_len=20)
    assert samples.select("user", "prefix", "target").rows() == [(2, [4], 5)]


def test_sample_count_is_sum_of_length_minus_three_on_beauty(shared_datasets: Path):
    folder = shared_datasets / "beauty"
    data = DataConfig(source=SasrecSource(interactions=folder / "interactions.txt"))
    dataset = clean(read_source(data.source), data)
    samples = training_prefixes(split_sequences(dataset.interactions), data.max_len)
    lengths = dataset.users["n_interactions"]
    assert samples.height == int((lengths - 3).sum())
    assert samples.height == 198_502 - 3 * 22_363
    assert samples["prefix"].list.len().max() == data.max_len
    assert samples["prefix"].list.len().min() == 1
