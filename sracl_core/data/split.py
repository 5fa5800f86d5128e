"""Leave-one-out split and training prefixes.

Per user: the last item is the test target, the one before it the validation
target, the rest the training sequence. Every prefix of the training sequence
is a training sample predicting the item that follows it (as in SASRec-style
SRA-CL training), truncated to its last ``max_len`` items.
"""

from __future__ import annotations

import polars as pl


def split_sequences(interactions: pl.DataFrame) -> pl.DataFrame:
    """One row per user: ``train`` (list), ``valid`` and ``test`` items."""
    return (
        interactions.sort(["user", "position"])
        .group_by("user", maintain_order=True)
        .agg(pl.col("item").alias("items"))
        .select(
            "user",
            pl.col("items").list.slice(0, pl.col("items").list.len() - 2).alias("train"),
            pl.col("items").list.get(-2).alias("valid"),
            pl.col("items").list.get(-1).alias("test"),
        )
    )


def training_prefixes(sequences: pl.DataFrame, max_len: int) -> pl.DataFrame:
    """Every (prefix -> next item) pair of each training sequence, oldest first."""
    samples = (
        sequences.select("user", "train")
        .with_columns(pl.int_ranges(1, pl.col("train").list.len()).alias("cut"))
        .explode("cut")
        .drop_nulls("cut")
        .select(
            "user",
            pl.col("train").list.slice(
                (pl.col("cut") - max_len).clip(lower_bound=0),
                pl.min_horizontal(pl.col("cut"), pl.lit(max_len)),
            ).alias("prefix"),
            pl.col("train").list.get(pl.col("cut")).alias("target"),
        )
    )
    return samples.with_row_index("sample").with_columns(pl.col("sample").cast(pl.Int64))
