"""Seconds per training batch: plain SASRec and full SRA-CL, optimised vs straightforward.

    .venv/bin/python benchmarks/bench_train.py [--batches 8] [--rounds 3] [--threads 2]
        [--config configs/beauty.yaml | --data /path/interactions.txt]
    python benchmarks/bench_train.py --device cuda     # on a GPU: the optimised variants,
                                                       # bf16 autocast, peak CUDA memory

Real Beauty sequences (131,413 training prefixes, batch 256, max_len 20, hidden
64, 2 layers, k = 10, alpha = beta = 0.1). Neighbours only need the right shapes
and statistics for timing: item neighbours from item co-occurrence, prefix-level
profile neighbours drawn at random among the 131,413 prefixes (so neighbour
sequences have the anchors' length distribution), random unit 1,024-d
"semantic" embeddings as in SimCSE RoBERTa-large.

The straightforward step is written here the way the public reference does it:
per-sample Python batch building (padding, neighbour look-up, item substitution),
a RecBole-style SASRec run at full width over every position with an additive
mask, one forward call per sequence group, the GAT on repeated anchor vectors and
the InfoNCE mask built in a Python loop. Both run in this process, interleaved,
so machine load hits both alike; peak RSS is measured per variant in a fresh
subprocess. "sracl-file" is the exact step with the profile embeddings read from a
file (``train.profile_embeddings: disk``); "gru4rec-sracl" is the exact step on GRU4Rec.
The "-flat" variants turn off length bucketing (``train.bucketed_encoder: false``; for
GRU4Rec, the packed GRU instead of one call per length), which saves FLOPs on a CPU but
adds kernel launches on a GPU, so its worth is measured on each.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from naive_step import NaiveSRACL, naive_batch

from sracl_core.rec.config import TrainConfig
from sracl_core.rec.data import SemanticNeighbours, TrainingData, leave_one_out, read_interactions
from sracl_core.rec.file_rows import FileRows
from sracl_core.rec.trainer import build_objective
from sracl_core.script_data import add_data_arguments, resolve_data_arguments

BATCH = 256
CPU = torch.device("cpu")
K = 10
D_TEXT = 1024


def beauty(path: str | Path) -> TrainingData:
    """Leave-one-out training data from a SASRec ``user item`` file."""
    sequences, n_items = read_interactions(path)
    return leave_one_out(sequences, n_items, max_len=20)


def timing_neighbours(data: TrainingData, seed: int = 0) -> SemanticNeighbours:
    """Random neighbours of the real shapes (never self; item row 0 is padding): a step's
    cost depends on how many there are, not on which (the GPU machine has no FAISS)."""
    g = torch.Generator().manual_seed(seed)
    n, n_items = data.train_prefixes.shape[0], data.n_items
    offsets = torch.randint(1, n, (n, K), generator=g)  # never self
    item_offsets = torch.randint(1, n_items, (n_items, K), generator=g)
    items = (torch.arange(n_items)[:, None] + item_offsets) % n_items + 1
    return SemanticNeighbours(
        item_neighbours=torch.cat([torch.zeros(1, K, dtype=items.dtype), items]),
        sample_profile=torch.arange(n),
        profile_neighbours=(torch.arange(n)[:, None] + offsets) % n,
        profile_sequences=data.train_prefixes,
        profile_embeddings=F.normalize(torch.randn(n, D_TEXT, generator=g), dim=1),
    )


def in_a_file(nb: SemanticNeighbours) -> SemanticNeighbours:
    """The same neighbours with the profile embeddings in a file (``train.profile_embeddings:
    disk``), under the working folder: on disk, where a tmpfs ``/tmp`` would be memory."""
    matrix = nb.profile_embeddings
    rows = FileRows.empty(matrix.shape[0], matrix.shape[1], Path.cwd())
    for start in range(0, matrix.shape[0], 8192):
        part = np.arange(start, min(start + 8192, matrix.shape[0]))
        rows[part] = matrix[start:start + len(part)].cpu().numpy()
    return dataclasses.replace(nb, profile_embeddings=rows.to(matrix.device))


# ---- timing -----------------------------------------------------------------------------

def make_steps(data: TrainingData, nb: SemanticNeighbours, variant: str,
               device: torch.device = CPU) -> Callable[[int], None]:
    """A function running training step ``i`` of the named variant."""
    torch.manual_seed(0)
    order = torch.randperm(data.train_prefixes.shape[0], device=device)
    batches = [order[i * BATCH:(i + 1) * BATCH] for i in range(len(order) // BATCH)]
    if variant.startswith("naive"):
        model = NaiveSRACL(data.n_items, data.max_len, nb, full=variant == "naive-sracl")
        prefix_lists = [[int(t) for t in row if t] for row in data.train_prefixes.tolist()]
        item_nb = nb.item_neighbours.tolist()
        optimizer = torch.optim.Adam(model.parameters(), 1e-3)

        def naive_step(i: int) -> None:
            batch = naive_batch(data, nb, batches[i].tolist(), item_nb, prefix_lists)
            loss = model.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return naive_step

    name, flat = variant.removesuffix("-flat"), variant.endswith("-flat")
    objective = {"sasrec": {"name": "next_item"},
                 "sracl": {},
                 "sracl-file": {},
                 "sracl-nograd": {"neighbour_gradients": False},
                 "sracl-dedup": {"dedup_neighbours": True},
                 "gru4rec-sracl": {}}[name]
    backbone = {"name": "gru4rec" if name.startswith("gru4rec") else "sasrec"}
    config = TrainConfig(backbone=backbone, objective=objective, bucketed_encoder=not flat)
    module, _ = build_objective(config, data, nb)
    module.to(device)
    optimizer = torch.optim.Adam(module.parameters(), 1e-3)
    generator = torch.Generator(device).manual_seed(0)
    prefixes, targets = data.train_prefixes.to(device), data.train_targets.to(device)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")

    def fast_step(i: int) -> None:
        samples = batches[i]
        with autocast:
            parts = module(prefixes[samples], targets[samples], samples, generator)
        optimizer.zero_grad()
        parts["total"].backward()
        optimizer.step()
    return fast_step


def reset_peak_rss() -> None:
    """Forget the setup's peak (the 538 MB of random 'text' vectors are built once)."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def peak_rss_kib() -> float:
    with open("/proc/self/status") as handle:
        return next(float(line.split()[1]) for line in handle if line.startswith("VmHWM"))


def peak_rss_mib(variant: str, args: argparse.Namespace) -> float:
    out = subprocess.run([sys.executable, __file__, "--data", str(args.data), "--threads",
                          str(args.threads), "--memory-of", variant],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_cuda_mib(step: Callable[[int], None], device: torch.device) -> float:
    """Peak CUDA memory allocated during four steps (tensors built before are excluded)."""
    synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    for i in range(1, 5):
        step(i)
    synchronize(device)
    return (torch.cuda.max_memory_allocated(device) - base) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--batches", type=int, default=6, help="timed batches per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", default="naive-sasrec,sasrec,naive-sracl,sracl,"
                                               "sracl-nograd,sracl-dedup")
    parser.add_argument("--device", default="cpu",
                        help="cuda: optimised variants only, with and without bucketing")
    parser.add_argument("--memory-of", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    resolve_data_arguments(parser, args)
    device = torch.device(args.device)
    if device.type == "cuda" and "naive" in args.variants:
        args.variants = "sasrec,sasrec-flat,sracl,sracl-flat,sracl-nograd,sracl-dedup"
    torch.set_num_threads(args.threads)
    random.seed(0)
    data = beauty(args.data)
    nb = timing_neighbours(data).to(device)

    if args.memory_of:
        if args.memory_of == "sracl-file":
            nb = in_a_file(nb)  # the in-memory matrix goes with the last reference to it
        step = make_steps(data, nb, args.memory_of)
        step(0)
        reset_peak_rss()
        for i in range(1, 5):
            step(i)
        print(peak_rss_kib() / 1024)
        return

    variants = args.variants.split(",")
    steps = {v: make_steps(data, in_a_file(nb) if v == "sracl-file" else nb, v, device)
             for v in variants}
    for v in variants:  # warm-up
        steps[v](0)
    synchronize(device)
    times: dict[str, list[float]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    for r in range(args.rounds):
        for v in variants:
            started, cpu_started = time.perf_counter(), time.process_time()
            for i in range(args.batches):
                steps[v](1 + r * args.batches + i)
            synchronize(device)
            times[v].append((time.perf_counter() - started) / args.batches)
            cpu[v].append((time.process_time() - cpu_started) / args.batches)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"torch {torch.__version__} on {where}, {args.threads} threads, batch {BATCH}, "
          f"{args.rounds} rounds x {args.batches} batches, median s/batch")
    memory_label = "peak CUDA MiB" if device.type == "cuda" else "peak RSS MiB"
    print(f"{'variant':20s} {'s/batch':>8s} {'samples/s':>10s} {'vs naive':>9s} "
          f"{'CPU s/batch':>11s} {'vs naive':>9s} {memory_label:>12s}")
    for v in variants:
        base = ("naive-sasrec" if v in {"sasrec", "naive-sasrec"}
                else "gru4rec-sracl-flat" if v.startswith("gru4rec") else "naive-sracl")
        row = f"{v:20s}"
        for series, with_rate in ((times, True), (cpu, False)):
            median = statistics.median(series[v])
            ratio = statistics.median(series[base]) / median if base in series else float("nan")
            rate = f" {BATCH / median:10.0f}" if with_rate else ""
            row += f" {median:{8 if with_rate else 11}.3f}{rate} {ratio:8.1f}x"
        memory = (peak_cuda_mib(steps[v], device) if device.type == "cuda"
                  else peak_rss_mib(v, args))
        print(f"{row} {memory:12.0f}", flush=True)


if __name__ == "__main__":
    main()
