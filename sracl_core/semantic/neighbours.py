"""Top-k semantic neighbours with FAISS (inner product on unit vectors = cosine).

Exact ``IndexFlatIP`` by default; ``hnsw`` (no training), ``ivf`` (trained,
``nprobe`` clusters searched) and ``ivfpq`` (``ivf`` over product-quantised codes of
``pq_m`` bytes a vector, which is what fits 10^7+ vectors in memory) for large sets;
moved to the GPU when faiss has GPUs (HNSW stays on the CPU, faiss has no GPU HNSW).

Self is excluded by id, not by position: with duplicated vectors the query's
own row can come back anywhere among equal scores. Optional groups exclude
every row of the query's group too (all prefixes of the same user). An
approximate index can return fewer than k usable hits; those rows are redone
exactly, so every row always has k neighbours.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from sracl_core.semantic.config import NeighboursConfig

log = logging.getLogger(__name__)

_QUERY_CHUNK = 16384


def build_index(vectors: np.ndarray, config: NeighboursConfig) -> object:
    """The FAISS index ``neighbours.index`` names, trained on and filled with ``vectors``
    (on every GPU where faiss has some); public so that benchmarks time the stage's own."""
    import faiss

    n, dim = vectors.shape
    if config.index == "hnsw":
        index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = max(config.hnsw_ef_search, config.k + 1)
    elif config.index in ("ivf", "ivfpq"):
        nlist = ivf_lists(n, config)
        quantizer = faiss.IndexFlatIP(dim)
        if config.index == "ivf":
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexIVFPQ(quantizer, dim, nlist, pq_subquantizers(dim, config.pq_m),
                                     config.pq_bits, faiss.METRIC_INNER_PRODUCT)
        index.train(_training_sample(vectors, config.train_points))
        index.nprobe = min(config.nprobe, nlist)
    else:
        index = faiss.IndexFlatIP(dim)
    if config.use_gpu and config.index != "hnsw" and _gpu_count() > 0:
        index = faiss.index_cpu_to_all_gpus(index)
        log.info("neighbours: %s index on %d GPU(s)", config.index, _gpu_count())
    index.add(vectors)
    return index


def ivf_lists(n: int, config: NeighboursConfig) -> int:
    """The clusters of an ivf or ivfpq index over ``n`` vectors: ``neighbours.nlist``, or
    about 4*sqrt(n), never more than the vectors (the preflight checks the sample against it)."""
    return min(config.nlist or max(1, int(4 * math.sqrt(n))), n)


def _training_sample(vectors: np.ndarray, points: int) -> np.ndarray:
    """``points`` rows drawn without replacement (seeded, so a rebuild trains alike), in row
    order; all of them when ``points`` is 0 or not fewer than the rows."""
    if not points or points >= len(vectors):
        return vectors
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), size=points, replace=False))
    return vectors[rows]


def pq_subquantizers(dim: int, asked: int) -> int:
    """``asked`` when it divides ``dim`` (FAISS needs that), else an error naming the divisors;
    0: the largest divisor of ``dim`` not above dim/8 (8 dimensions per byte of code)."""
    divisors = [m for m in range(1, dim + 1) if dim % m == 0]
    if asked == 0:
        return max(m for m in divisors if m <= max(1, dim // 8))
    if dim % asked:
        raise ValueError(f"neighbours.pq_m={asked} does not divide the embedding size {dim}; "
                         f"expected one of {divisors}")
    return asked


def _gpu_count() -> int:
    import faiss

    return faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0


def _select(labels: np.ndarray, scores: np.ndarray, query_rows: np.ndarray, k: int,
            groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop invalid, self and same-group hits; keep the first k. Returns rows lacking k."""
    keep = labels >= 0
    keep &= labels != query_rows[:, None]
    if groups is not None:
        safe = np.where(labels >= 0, labels, 0)
        keep &= groups[safe] != groups[query_rows][:, None]
    order = np.argsort(~keep, axis=1, kind="stable")
    picked = np.take_along_axis(labels, order, axis=1)[:, :k]
    picked_scores = np.take_along_axis(scores, order, axis=1)[:, :k]
    short = keep.sum(axis=1) < k
    return picked, picked_scores, short


def _exact(vectors: np.ndarray, rows: np.ndarray, k: int,
           groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force neighbours of a few rows, for those an approximate index left short."""
    similarity = vectors[rows] @ vectors.T
    similarity[np.arange(len(rows)), rows] = -np.inf
    if groups is not None:
        similarity[groups[None, :] == groups[rows][:, None]] = -np.inf
    order = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(similarity, order, axis=1)


def _rerank(vectors: np.ndarray, rows: np.ndarray, found: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Quantised hits re-scored exactly and re-sorted: the scores written are true cosines,
    and the codes' rounding only decides which candidates are looked at."""
    valid = found >= 0
    exact = np.einsum("nd,nkd->nk", vectors[rows], vectors[np.where(valid, found, 0)])
    exact = np.where(valid, exact, -np.inf).astype(np.float32)
    order = np.argsort(-exact, axis=1, kind="stable")
    return np.take_along_axis(found, order, axis=1), np.take_along_axis(exact, order, axis=1)


def top_k(vectors: np.ndarray, k: int, config: NeighboursConfig,
          groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(n, k)`` of each row's nearest other rows, and their cosine scores.

    ``vectors`` must be L2-normalised float32. ``groups`` (one label per row)
    also excludes rows sharing the query's label. ``k`` must leave enough
    candidates: at most n - (largest group size, or 1).
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = vectors.shape[0]
    largest = int(np.unique(groups, return_counts=True)[1].max()) if groups is not None else 1
    if k > n - largest:
        raise ValueError(f"k={k} neighbours asked for, but only {n - largest} candidates exist "
                         f"per row ({n} rows); lower neighbours.k")
    index = build_index(vectors, config)
    quantised = config.index == "ivfpq"
    fetch = min(n, (config.rerank * k if quantised else k) + largest)
    labels = np.empty((n, k), dtype=np.int64)
    scores = np.empty((n, k), dtype=np.float32)
    short_rows = []
    for start in range(0, n, _QUERY_CHUNK):
        rows = np.arange(start, min(start + _QUERY_CHUNK, n))
        found_scores, found = index.search(vectors[rows], fetch)
        if quantised:
            found, found_scores = _rerank(vectors, rows, found)
        picked, picked_scores, short = _select(found, found_scores, rows, k, groups)
        labels[rows], scores[rows] = picked, picked_scores
        short_rows.append(rows[short])
    redo = np.concatenate(short_rows)
    if len(redo):
        log.info("neighbours: %d rows had fewer than k hits from the %s index; searched "
                 "exactly", len(redo), config.index)
        labels[redo], scores[redo] = _exact(vectors, redo, k, groups)
    return labels, scores
