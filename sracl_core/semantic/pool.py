"""Where a training sample's neighbour profiles come from, and whether they hold its answer.

L_CS contrasts a sample with the sequences of its neighbour profiles. At prefix
granularity the reference lets those neighbours be the same user's other prefixes,
and a longer one contains the sample's target item: the positive then carries the
label the sample is trained to predict. Whether the paper's numbers need that is an
empirical question, so this measures it on any computed neighbours artifact: how many
neighbour slots are the sample's own user, and how many hold its target, split by
own and other users (another user who also bought the target is the collaborative
signal retrieval is for, not a leak).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class PoolSummary:
    """Shares over all (training sample, neighbour slot) pairs, and over samples."""

    samples: int
    k: int
    own_user: float
    """Share of neighbour slots that are a profile of the sample's own user."""
    own_user_target: float
    """Share of slots from the own user whose sequence holds the sample's target."""
    other_user_target: float
    """Share of slots from another user whose sequence holds the sample's target."""
    samples_with_own_target: float
    """Share of samples with at least one own-user neighbour holding their target."""


def summarise_pool(train_samples: pl.DataFrame, sample_profiles: pl.DataFrame,
                   user_prompts: pl.DataFrame, sequences: pl.DataFrame,
                   user_neighbours: pl.DataFrame, max_len: int) -> PoolSummary:
    """The stage tables (ingest's ``train_samples`` and ``sequences``, prompts'
    ``sample_profiles`` and ``user_prompts``, neighbours' ``user_neighbours``) -> shares.

    A neighbour's sequence is what L_CS encodes for it: its prefix (prefix granularity)
    or its user's training sequence (user granularity), cut to the last ``max_len`` items.
    """
    profile_sequences = (
        user_prompts.select("profile", "user", "sample")
        .join(sequences.select("user", "train"), on="user", how="left")
        .join(train_samples.select("sample", "prefix"), on="sample", how="left")
        .select(pl.col("profile").alias("neighbour"), pl.col("user").alias("neighbour_user"),
                pl.coalesce("prefix", "train").list.tail(max_len).alias("sequence"))
    )
    own = pl.col("user") == pl.col("neighbour_user")
    holds = pl.col("sequence").list.contains(pl.col("target"))
    slots = (
        train_samples.select("sample", "user", "target")
        .join(sample_profiles, on="sample", how="inner")
        .join(user_neighbours.select("profile", "neighbours"), on="profile", how="inner")
        .explode("neighbours").rename({"neighbours": "neighbour"})
        .join(profile_sequences, on="neighbour", how="left")
        .select("sample", own.alias("own"), (own & holds).alias("own_target"),
                (~own & holds).alias("other_target"))
    )
    if slots.is_empty():
        raise ValueError("no training sample has neighbours to summarise")
    samples = slots.group_by("sample").agg(pl.col("own_target").any())
    shares = slots.select(pl.col("own", "own_target", "other_target").mean()).row(0)
    widths = user_neighbours["neighbours"].list.len()
    return PoolSummary(samples=samples.height, k=int(widths.max() or 0),
                       own_user=shares[0], own_user_target=shares[1],
                       other_user_target=shares[2],
                       samples_with_own_target=float(samples["own_target"].mean()))
