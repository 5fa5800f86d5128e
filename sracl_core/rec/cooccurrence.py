"""Item vectors from collaborative signals, for the "collaborative retrieval" ablation.

SRA-CL retrieves neighbours by text; the ablation (``neighbours.source:
collaborative``) swaps in vectors that carry no semantics: item vectors from the
item-transition co-occurrence matrix of the training sequences (truncated SVD).
The neighbours stage averages them into profile vectors and searches both with
the same FAISS top-k as text embeddings.
"""

from __future__ import annotations

import torch


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
