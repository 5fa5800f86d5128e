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
