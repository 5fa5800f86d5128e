"""Where sequences start and how length buckets are planned."""

from __future__ import annotations

import torch

from sracl_core.rec.backbones.lengths import plan_buckets, sequence_starts


def test_sequence_starts_and_bucket_plan() -> None:
    seqs = torch.tensor([[0, 0, 1, 2], [0, 5, 0, 2], [0, 0, 0, 0], [1, 2, 3, 4]])
    assert sequence_starts(seqs).tolist() == [2, 1, 3, 0]
    # no overhead: one bucket per distinct length; huge overhead: one bucket
    assert plan_buckets([0, 5, 0, 3, 2], 0) == [(1, 5), (3, 3), (4, 2)]
    assert plan_buckets([0, 5, 0, 3, 2], 10_000) == [(4, 10)]
    assert plan_buckets([0, 0, 0], 5) == []


def test_the_bucket_plan_counts_rows_padded_to_a_multiple() -> None:
    """One sequence of length 1 and one of 2: apart they cost 1 + 2 token slots, together 4;
    padded to 4 rows each, apart they cost 4 + 8 and together 8, so they share a bucket."""
    assert plan_buckets([0, 1, 1], 0) == [(1, 1), (2, 1)]
    assert plan_buckets([0, 1, 1], 0, row_multiple=4) == [(2, 2)]
    # 5 + 3 + 2 sequences of lengths 1, 3, 4 in 4-row multiples: apart 8*1 + 4*3 + 4*4 = 36,
    # the cheapest of the four ways to cut them (lengths 3 and 4 together: 8 + 8*4 = 40)
    assert plan_buckets([0, 5, 0, 3, 2], 0, row_multiple=4) == [(1, 5), (3, 3), (4, 2)]
