"""Neighbour look-ups: never self, the right order, the collaborative ablation's shapes."""

from __future__ import annotations

import torch

from sracl_core.rec.neighbours import (
    collaborative_neighbours,
    item_neighbours_from_vectors,
    nearest_neighbours,
)


def test_nearest_neighbours_by_cosine_excluding_self() -> None:
    vectors = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.2, 1.0], [-1.0, 0.0]])
    assert nearest_neighbours(vectors, 2, chunk=3).tolist() == [[1, 2], [0, 2], [1, 0], [2, 1]]


def test_item_neighbours_keep_padding_row_and_item_ids() -> None:
    table = item_neighbours_from_vectors(torch.randn(9, 4), k=3)
    assert table.shape == (9, 3)
    assert table[0].tolist() == [0, 0, 0]
    assert ((table[1:] >= 1) & (table[1:] <= 8)).all()
    assert (table[1:] != torch.arange(1, 9)[:, None]).all()


def test_collaborative_neighbours_follow_the_semantic_granularity(tiny_data,
                                                                  tiny_neighbours) -> None:
    user_level = collaborative_neighbours(tiny_data, k=4, dim=8)
    user_level.check(tiny_data)
    assert user_level.profile_sequences.shape[0] == tiny_data.valid.users.numel()
    assert (user_level.profile_neighbours != torch.arange(60)[:, None]).all()
    like = collaborative_neighbours(tiny_data, dim=8, like=tiny_neighbours)
    like.check(tiny_data)
    assert torch.equal(like.sample_profile, tiny_neighbours.sample_profile)
    assert like.item_neighbours.shape == tiny_neighbours.item_neighbours.shape
