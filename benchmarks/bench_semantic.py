"""Semantic-stage speed: LLM profile throughput on the embedded sample, neighbour search.

    .venv/bin/python benchmarks/bench_semantic.py llm --batch-sizes 16 64 0
    .venv/bin/python benchmarks/bench_semantic.py search --n 20000 --dim 1024
    .venv/bin/python benchmarks/bench_semantic.py search --config configs/beauty.yaml \
        --set cache_root=/root/sracl-cache

``llm`` builds the default config's prompts (item and user, shuffled together)
and sends them to the real engine at each batch size, bypassing the response
cache, after one engine load; 0 means every prompt at once. ``search`` times
FAISS (flat, HNSW, IVF) against a brute-force torch top-k on the same random
unit vectors and reports each index's recall against the exact answer.
Paste the printed Markdown rows into benchmarks/RESULTS.md with the command.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]


def machine() -> str:
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    load = os.getloadavg()[0]
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, {device}, load {load:.1f}"


def bench_llm(args: argparse.Namespace) -> None:
    from sracl_core.config import load_config
    from sracl_core.semantic.backends.vllm_backend import VllmBackend
    from sracl_core.semantic.profiles import item_requests, user_requests
    from sracl_core.stages.runner import run_stage

    with tempfile.TemporaryDirectory() as cache:
        config = load_config(PROJECT / "configs" / "default.yaml",
                             [f"cache_root={cache}", *args.set])
        for stage in ("ingest", "prompts"):
            outcome = run_stage(config, stage)
        import polars as pl

        prompts = Path(outcome.path)
        templates = config.prompts.templates
        requests = (item_requests(pl.read_parquet(prompts / "item_prompts.parquet"),
                                  config.profiles, templates)
                    + user_requests(pl.read_parquet(prompts / "user_prompts.parquet"),
                                    config.profiles, templates))
    random.Random(0).shuffle(requests)
    began = time.perf_counter()
    backend = VllmBackend(config.profiles)
    load_seconds = time.perf_counter() - began
    print(f"\nmachine: {machine()}; engine load {load_seconds:.0f} s; {len(requests)} prompts; "
          f"max_tokens item/user {config.profiles.max_tokens_item}/"
          f"{config.profiles.max_tokens_user}")
    print("| batch | prompts | seconds | prompts/s | generated tokens/s | prompt tokens (mean) "
          "| generated tokens (mean) | hit max_tokens |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.batch_sizes:
        batch = requests[:size] if size else requests
        began = time.perf_counter()
        generations = backend.generate(batch)
        seconds = time.perf_counter() - began
        completion = sum(g.completion_tokens or 0 for g in generations)
        prompt = sum(g.prompt_tokens or 0 for g in generations)
        capped = sum(g.finish_reason == "length" for g in generations)
        print(f"| {size or 'all'} | {len(batch)} | {seconds:.1f} | {len(batch) / seconds:.2f} | "
              f"{completion / seconds:.1f} | {prompt / len(batch):.0f} | "
              f"{completion / len(batch):.0f} | {capped} |", flush=True)
    backend.close()


def bench_search(args: argparse.Namespace) -> None:
    import torch

    from sracl_core.semantic.config import NeighboursConfig
    from sracl_core.semantic.encoders import normalise
    from sracl_core.semantic.neighbours import top_k

    if args.config:
        vectors, what = profile_vectors(args.config, args.set, args.table)
    else:
        vectors = normalise(np.random.default_rng(0).normal(size=(args.n, args.dim)))
        what = "random unit vectors"
    args.n, args.dim = vectors.shape
    k = args.k
    device = "cuda" if torch.cuda.is_available() else "cpu"
    began = time.perf_counter()
    matrix = torch.from_numpy(vectors).to(device)
    exact = []
    for start in range(0, args.n, 4096):
        scores = matrix[start:start + 4096] @ matrix.T
        rows = torch.arange(start, min(start + 4096, args.n), device=device)
        scores[rows - start, rows] = -float("inf")
        exact.append(scores.topk(k, dim=1).indices.cpu())
    exact_labels = torch.cat(exact).numpy()
    torch_seconds = time.perf_counter() - began
    print(f"\nmachine: {machine()}; {args.n} x {args.dim} {what}, k={k}")
    print("| method | seconds | recall@k vs exact |")
    print("|---|---|---|")
    print(f"| torch brute force (matmul + topk, {device}) | {torch_seconds:.2f} | 1.000 |")
    for index in args.indexes:
        config = NeighboursConfig(k=k, index=index, nprobe=args.nprobe, use_gpu=False)
        began = time.perf_counter()
        labels, _ = top_k(vectors, k, config)
        seconds = time.perf_counter() - began
        recall = np.mean([len(set(a) & set(b)) / k
                          for a, b in zip(labels.tolist(), exact_labels.tolist(), strict=True)])
        print(f"| faiss {index} | {seconds:.2f} | {recall:.3f} |", flush=True)


def profile_vectors(config_path: str, overrides: list[str], table: str
                     ) -> tuple[np.ndarray, str]:
    """A config's real embeddings (the embeddings stage's artifact, which must exist)."""
    from sracl_core.config import load_config
    from sracl_core.stages.graph import outputs_of

    config = load_config(config_path, overrides)
    outputs = outputs_of(config)
    outputs.require("embeddings", "embeddings", "sracl run --until embeddings")
    vectors = np.stack(outputs.table("embeddings", table)["vector"].to_numpy())
    return (np.ascontiguousarray(vectors, dtype=np.float32),
            f"{table} of {config.dataset} (embeddings {outputs.fingerprint('embeddings')}, "
            f"profiles backend {config.profiles.backend})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    llm = commands.add_parser("llm", help="profile generation throughput, embedded sample")
    llm.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64, 0])
    llm.add_argument("--set", action="append", default=[], help="config override")
    search = commands.add_parser("search", help="neighbour search speed")
    search.add_argument("--n", type=int, default=20000)
    search.add_argument("--dim", type=int, default=1024)
    search.add_argument("--k", type=int, default=10)
    search.add_argument("--indexes", nargs="+", default=["flat", "hnsw", "ivf", "ivfpq"])
    search.add_argument("--nprobe", type=int, default=16, help="ivf and ivfpq")
    search.add_argument("--config", help="search this config's real embeddings instead of "
                        "random vectors (its embeddings stage must be computed)")
    search.add_argument("--set", action="append", default=[], help="config override")
    search.add_argument("--table", default="user_embeddings",
                        choices=["user_embeddings", "item_embeddings"])
    args = parser.parse_args()
    {"llm": bench_llm, "search": bench_search}[args.command](args)


if __name__ == "__main__":
    main()
