"""The collaborative ablation's item vectors: what co-occurs ends up close."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from sracl_core.rec.cooccurrence import cooccurrence_vectors


def test_items_with_the_same_neighbours_share_a_direction_and_padding_is_zero() -> None:
    # 1 and 2 are each followed by 5 three times; 3 and 4 by 6 twice: a matrix of rank 4
    a = torch.tensor([1, 1, 1, 2, 2, 2, 3, 3, 4, 4])
    b = torch.tensor([5, 5, 5, 5, 5, 5, 6, 6, 6, 6])
    vectors = cooccurrence_vectors(a, b, n_items=6, dim=4)
    assert vectors.shape == (7, 4) and torch.equal(vectors[0], torch.zeros(4))
    unit = F.normalize(vectors[1:], dim=1)
    similarity = unit @ unit.T
    assert similarity[0, 1].item() == pytest.approx(1.0, abs=1e-5)  # items 1 and 2
    assert similarity[2, 3].item() == pytest.approx(1.0, abs=1e-5)  # items 3 and 4
    assert abs(similarity[0, 2].item()) < 1e-5  # no shared context


def test_the_vectors_are_seeded_and_leave_the_global_rng_alone() -> None:
    a, b = torch.tensor([1, 2, 3]), torch.tensor([2, 3, 1])
    torch.manual_seed(5)
    state = torch.random.get_rng_state()
    first = cooccurrence_vectors(a, b, n_items=3, dim=2)
    assert torch.equal(torch.random.get_rng_state(), state)
    torch.manual_seed(99)
    assert torch.equal(cooccurrence_vectors(a, b, n_items=3, dim=2), first)
