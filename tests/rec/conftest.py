"""Tiny synthetic datasets shared by the rec tests (small enough for milliseconds per epoch)."""

from __future__ import annotations

import pytest
import torch

from sracl_core.rec.data import SemanticNeighbours, TrainingData, leave_one_out
from sracl_core.semantic.config import NeighboursConfig
from sracl_core.semantic.neighbours import top_k


def synthetic_sequences(n_users: int, n_items: int, seed: int) -> dict[int, list[int]]:
    """Users walk through items with a drift, so there is a learnable next-item signal."""
    g = torch.Generator().manual_seed(seed)
    sequences = {}
    for user in range(1, n_users + 1):
        length = int(torch.randint(4, 12, (1,), generator=g))
        start = int(torch.randint(1, n_items + 1, (1,), generator=g))
        steps = torch.randint(1, 3, (length,), generator=g).cumsum(0)
        sequences[user] = [int((start + s - 1) % n_items) + 1 for s in steps]
    return sequences


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors gain nothing from threads, and OpenMP threads spinning on a shared,
    loaded machine made this suite ten times slower; restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_data() -> TrainingData:
    return leave_one_out(synthetic_sequences(60, 30, seed=0), n_items=30, max_len=8)


def knn(vectors: torch.Tensor, k: int):
    """The product's exact FAISS search: row indices of each row's k nearest other rows."""
    return top_k(vectors.numpy(), k, NeighboursConfig(k=k))[0]


def make_neighbours(data: TrainingData, k: int = 3, d_text: int = 16,
                    seed: int = 0) -> SemanticNeighbours:
    """Prefix-granularity neighbours from random 'text' vectors."""
    g = torch.Generator().manual_seed(seed)
    item_vectors = torch.nn.functional.normalize(torch.randn(data.n_items, d_text, generator=g),
                                                 dim=1)
    profile_embeddings = torch.nn.functional.normalize(
        torch.randn(data.train_prefixes.shape[0], d_text, generator=g), dim=1)
    item_ids = torch.from_numpy(knn(item_vectors, k)) + 1  # row 0 is the padding item
    return SemanticNeighbours(
        item_neighbours=torch.cat([torch.zeros(1, k, dtype=item_ids.dtype), item_ids]),
        sample_profile=torch.arange(data.train_prefixes.shape[0]),
        profile_neighbours=torch.from_numpy(knn(profile_embeddings, k)),
        profile_sequences=data.train_prefixes,
        profile_embeddings=profile_embeddings,
    )


@pytest.fixture
def tiny_neighbours(tiny_data: TrainingData) -> SemanticNeighbours:
    return make_neighbours(tiny_data)
