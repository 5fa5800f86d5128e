"""Neighbours from collaborative signals, for the "collaborative retrieval" ablation.

SRA-CL retrieves neighbours by text; the ablation swaps in neighbours that carry
no semantics: item vectors from the item-transition co-occurrence matrix of the
training sequences (truncated SVD), and profile vectors as the mean of their
items' vectors. The same cosine top-k then yields a :class:`SemanticNeighbours`.
The generic :func:`nearest_neighbours` also serves tests and benchmarks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sracl_core.rec.data import SemanticNeighbours, TrainingData


def nearest_neighbours(vectors: torch.Tensor, k: int, chunk: int = 4096) -> torch.Tensor:
    """[n, d] -> [n, k] row indices of the k most cosine-similar other rows (self excluded)."""
    if vectors.shape[0] <= k:
        raise ValueError(f"need more than k={k} vectors, got {vectors.shape[0]}")
    unit = F.normalize(vectors.float(), dim=1)
    out = []
    for start in range(0, unit.shape[0], chunk):
        sim = unit[start:start + chunk] @ unit.T
        rows = torch.arange(sim.shape[0], device=sim.device)
        sim[rows, rows + start] = float("-inf")
        out.append(sim.topk(k, dim=1).indices)
    return torch.cat(out)


def item_neighbours_from_vectors(item_vectors: torch.Tensor, k: int) -> torch.Tensor:
    """[n_items + 1, d] (row 0 = padding) -> [n_items + 1, k] item ids, row 0 all 0."""
    ids = nearest_neighbours(item_vectors[1:], k) + 1
    return torch.cat([torch.zeros(1, k, dtype=ids.dtype, device=ids.device), ids])


def cooccurrence_item_vectors(data: TrainingData, dim: int) -> torch.Tensor:
    """:func:`cooccurrence_vectors` of the training samples' (last input item, target) pairs,
    which are each consecutive pair of every training sequence exactly once."""
    return cooccurrence_vectors(data.train_prefixes[:, -1].cpu(), data.train_targets.cpu(),
                                data.n_items, dim)


def cooccurrence_vectors(a: torch.Tensor, b: torch.Tensor, n_items: int, dim: int
                         ) -> torch.Tensor:
    """[n_items + 1, dim] item vectors (row 0 = padding, zero) from the symmetric counts of
    the item pairs (a[i], b[i]), log1p-scaled, by a seeded truncated SVD."""
    n = n_items + 1
    index = torch.stack([torch.cat([a, b]), torch.cat([b, a])])
    counts = torch.sparse_coo_tensor(index, torch.ones(index.shape[1]), (n, n),
                                     check_invariants=True).coalesce()
    counts = torch.sparse_coo_tensor(counts.indices(), counts.values().log1p(), (n, n),
                                     check_invariants=True)
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(0)  # svd_lowrank is randomised; keep it off the training RNG stream
    u, s, _ = torch.svd_lowrank(counts, q=min(dim, n - 1), niter=4)
    torch.random.set_rng_state(generator_state)
    vectors = u * s.sqrt()
    vectors[0] = 0.0
    return vectors


def user_profiles(data: TrainingData) -> tuple[torch.Tensor, torch.Tensor]:
    """User-granularity profile rows: (sample_profile [N], profile_sequences [U, max_len]).

    A user's profile sequence is their training sequence (the validation input)."""
    users = data.valid.users
    row_of_user = torch.full((int(users.max()) + 1,), -1, dtype=torch.long)
    row_of_user[users] = torch.arange(users.numel())
    sample_profile = row_of_user[data.train_users]
    if (sample_profile < 0).any():
        raise ValueError("a training sample's user has no validation row")
    return sample_profile, data.valid.inputs


def collaborative_neighbours(data: TrainingData, k: int = 10, dim: int = 64,
                             like: SemanticNeighbours | None = None) -> SemanticNeighbours:
    """Neighbours with no text: co-occurrence item vectors, profiles = mean item vector.

    With ``like`` the profile rows (granularity) of the semantic neighbours are
    kept, so the ablation changes only where neighbours come from.
    """
    item_vectors = cooccurrence_item_vectors(data, dim)
    if like is not None:
        sample_profile, sequences = like.sample_profile.cpu(), like.profile_sequences.cpu()
        k = like.item_neighbours.shape[1]
    else:
        sample_profile, sequences = user_profiles(data)
    summed = item_vectors[sequences].sum(dim=1)  # padding row is zero
    profile_vectors = F.normalize(summed / (sequences > 0).sum(1, keepdim=True).clamp(min=1),
                                  dim=1)
    return SemanticNeighbours(
        item_neighbours=item_neighbours_from_vectors(item_vectors, k),
        sample_profile=sample_profile,
        profile_neighbours=nearest_neighbours(profile_vectors, k),
        profile_sequences=sequences,
        profile_embeddings=profile_vectors.contiguous(),
    )
