"""IVF-PQ past 10M vectors: the neighbours stage's index on real Beauty user embeddings plus copies.

    .venv/bin/python benchmarks/bench_ivfpq_10m.py --vectors 10000000 --nlist 2048 \\
        --train-points 131072 --queries 1000 --nprobe 16 64

The set holds Beauty's 22,363 real 384-d LLM-profile user embeddings (from the
cache of ``configs/beauty.yaml``), followed by synthetic users between them (see
:func:`fill`) up to ``--vectors`` rows, in one float32 array (15.4 GB at 10M: the
stage keeps the vectors for its exact re-ranking).

- **Index.** The stage's own (``build_index``, ``neighbours.index=ivfpq`` with the
  given ``nlist`` and ``train_points``), timed for training and adding.
- **Queries.** ``--queries`` real users, searched as the stage searches them: 41
  candidates by code (``--fetch``: more, to see what re-ranking more would buy),
  re-ranked by exact cosine, the best 10 other rows kept.
- **Recall@10.** Measured against exact search over all rows. That search is done in
  chunks of 250k rows, so the set is never copied whole.

Peak RSS is that of this process.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from bench_semantic import profile_vectors

from sracl_core.semantic.config import NeighboursConfig
from sracl_core.semantic.neighbours import build_index

K, FETCH = 10, 41
"""The stage fetches 4 x k candidates by code (plus one for the query itself)."""
CHUNK = 250_000
"""Rows made or searched at once: 0.4 GB each, so temporaries stay small beside the set."""


def fill(real: np.ndarray, rows: int) -> np.ndarray:
    """The real vectors, then synthetic users between them, in one preallocated array.

    A synthetic user is ``w u_i + (1 - w) u_j`` plus noise (sigma 0.02 per coordinate),
    renormalised, for two random real users and ``w`` uniform in [0.5, 1]. Noisy copies
    of one user would make a query's neighbours its own copies, which any index finds;
    mixtures fill the space between real users, where an approximate index can err.
    """
    vectors = np.empty((rows, real.shape[1]), dtype=np.float32)
    vectors[:len(real)] = real
    rng = np.random.default_rng(0)
    for start in range(len(real), rows, CHUNK):
        size = min(rows, start + CHUNK) - start
        weight = rng.uniform(0.5, 1.0, (size, 1)).astype(np.float32)
        chunk = (weight * real[rng.integers(len(real), size=size)]
                 + (1 - weight) * real[rng.integers(len(real), size=size)]
                 + rng.normal(0, 0.02, (size, real.shape[1])).astype(np.float32))
        vectors[start:start + size] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return vectors


def exact(vectors: np.ndarray, queries: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each query's true 10 nearest other rows, by brute force over 1M-row chunks."""
    import faiss

    best_scores = np.full((len(queries), K + 1), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), K + 1), dtype=np.int64)
    for start in range(0, len(vectors), CHUNK):
        chunk = faiss.IndexFlatIP(vectors.shape[1])
        chunk.add(vectors[start:start + CHUNK])
        scores, found = chunk.search(queries, K + 1)
        scores = np.concatenate([best_scores, scores], axis=1)
        found = np.concatenate([best_rows, found + start], axis=1)
        keep = np.argsort(-scores, axis=1)[:, :K + 1]
        best_scores = np.take_along_axis(scores, keep, 1)
        best_rows = np.take_along_axis(found, keep, 1)
    return _without_self(best_rows, rows)


def _without_self(found: np.ndarray, rows: np.ndarray) -> np.ndarray:
    pairs = zip(found, rows, strict=True)
    return np.stack([[r for r in line if r != row][:K] for line, row in pairs])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=10_000_000)
    parser.add_argument("--nlist", type=int, default=2048)
    parser.add_argument("--train-points", type=int, default=131_072)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--fetch", type=int, nargs="+", default=[FETCH],
                        help="candidates fetched by code and re-ranked exactly (the stage: 41)")
    parser.add_argument("--config", default="configs/beauty.yaml")
    args = parser.parse_args()
    real, what = profile_vectors(args.config, ["cache_root=/root/sracl-cache"],
                                 "user_embeddings")
    started = time.perf_counter()
    vectors = fill(real, args.vectors)
    print(f"{len(vectors):,} x {vectors.shape[1]} vectors ({vectors.nbytes / 2**30:.1f} GiB; "
          f"the first {len(real):,} are {what}), filled in {time.perf_counter() - started:.0f} s")
    settings = NeighboursConfig(index="ivfpq", k=K, nlist=args.nlist,
                                train_points=args.train_points, nprobe=max(args.nprobe))
    started = time.perf_counter()
    index = build_index(vectors, settings)
    print(f"ivfpq nlist {args.nlist}, {index.pq.M} x {index.pq.nbits}-bit codes, trained on "
          f"{args.train_points:,}: built in {time.perf_counter() - started:.0f} s")
    rows = np.sort(np.random.default_rng(1).choice(len(real), args.queries, replace=False))
    queries = vectors[rows]
    started = time.perf_counter()
    truth = exact(vectors, queries, rows)
    print(f"exact search of {len(rows):,} real users: {time.perf_counter() - started:.0f} s")
    for nprobe in args.nprobe:
        for fetch in args.fetch:
            index.nprobe = nprobe
            started = time.perf_counter()
            _, found = index.search(queries, fetch)
            rescored = np.einsum("qkd,qd->qk", vectors[found], queries)
            ranked = np.take_along_axis(found, np.argsort(-rescored, axis=1), 1)
            picked = _without_self(ranked, rows)
            seconds = time.perf_counter() - started
            recall = np.mean([len(set(a) & set(b)) / K
                              for a, b in zip(picked, truth, strict=True)])
            print(f"nprobe {nprobe:3d}, {fetch:4d} candidates re-ranked: recall@10 "
                  f"{recall:.3f}, {seconds / len(rows) * 1e3:.1f} ms a query")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak RSS {peak:.1f} GiB")


if __name__ == "__main__":
    main()
