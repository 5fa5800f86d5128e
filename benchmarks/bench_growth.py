"""How cost grows with data: Beauty copied 10x and 100x, each stage timed through `sracl run`.

    .venv/bin/python benchmarks/bench_growth.py make --scale 10 --out /root/growth
    .venv/bin/python benchmarks/bench_growth.py stages --scale 10 --out /root/growth
    .venv/bin/python benchmarks/bench_growth.py neighbours --scale 10 --queries 20000

``make`` writes ``scale`` disjoint copies of real Beauty (users, items and their
sequences, item ids offset per copy, titles tagged with the copy) in the SASRec
format with a config beside them, so every copy keeps Beauty's 5-core and sequence
lengths exactly: at 100x that is 2.24M users, 1.21M items and 19.9M interactions.

``stages`` runs the product's own commands on it, one stage at a time
(``sracl run --until <stage>``, the earlier stages found cached), and reports each
stage's compute seconds (its manifest) and the command's peak RSS (``wait4``). The
train row is one SASRec epoch: the command is stopped after ``--train-seconds`` (the
trainer checkpoints on SIGINT) and the epoch time is extrapolated from the steps its
checkpoint says were done.

``neighbours`` times the neighbours stage's search (``sracl_core.semantic.neighbours``)
on vectors shaped like the product's: Beauty's real 384-d user embeddings from the
cache, copied ``scale`` times with small noise, flat and IVF, for ``--queries`` users
(the full run's time is that times users / queries, as search cost is linear in the
queries). The LLM and the encoder are not run at scale here: their cost is linear in
prompts, at the rates measured on all of Beauty (``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
BEAUTY = ROOT.parent / "shared" / "datasets" / "beauty"
SRACL = str(Path(sys.executable).parent / "sracl")


def make(scale: int, out: Path) -> Path:
    """``scale`` disjoint copies of Beauty and a config for them; returns the config path."""
    folder = out / f"x{scale}"
    folder.mkdir(parents=True, exist_ok=True)
    pairs = pl.read_csv(BEAUTY / "interactions.txt", separator=" ", has_header=False,
                        new_columns=["user", "item"], schema_overrides=[pl.Int64, pl.Int64])
    items = pl.read_csv(BEAUTY / "items.tsv", separator="\t", quote_char=None)
    users, n_items = int(pairs["user"].max()), int(items["sracl_item_id"].max())
    copies = pl.DataFrame({"copy": np.arange(scale, dtype=np.int64)})
    pairs.join(copies, how="cross").sort("copy", maintain_order=True).select(
        pl.col("user") + pl.col("copy") * users, pl.col("item") + pl.col("copy") * n_items,
    ).write_csv(folder / "interactions.txt", separator=" ", include_header=False)
    items.join(copies, how="cross").sort("copy", maintain_order=True).select(
        (pl.col("sracl_item_id") + pl.col("copy") * n_items).alias("sracl_item_id"),
        pl.format("{}-{}", pl.col("asin"), pl.col("copy")).alias("asin"),
        pl.format("{} #{}", pl.col("title"), pl.col("copy")).alias("title"),
    ).write_csv(folder / "items.tsv", separator="\t", quote_style="never")
    config = folder / "config.yaml"
    config.write_text(
        f"# {scale} disjoint copies of Amazon Beauty (benchmarks/bench_growth.py make)\n"
        f"dataset: growth-x{scale}\ncache_root: cache\nseed: 42\n"
        "data:\n  source:\n    format: sasrec\n    interactions: interactions.txt\n"
        "    items: items.tsv\n  k_core: 5\n  max_len: 20\n"
        "prompts:\n  granularity: user\n  domain: beauty products\n")
    print(f"x{scale}: {pairs.height * scale:,} interactions, {users * scale:,} users, "
          f"{n_items * scale:,} items -> {folder}")
    return config


def _timed(command: list[str], log: Path, stop_after: float | None = None
           ) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (GiB) and exit status of ``command`` (SIGINT after ``stop_after``);
    its console goes to ``log``."""
    started = time.perf_counter()
    with open(log, "a") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
    stopped = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return time.perf_counter() - started, usage.ru_maxrss / 2**20, process.returncode
        if stop_after is not None and not stopped and time.perf_counter() - started > stop_after:
            process.send_signal(signal.SIGINT)
            stopped = True
        time.sleep(0.2)


def _manifest_seconds(cache: Path, stage: str) -> float | None:
    manifests = sorted((cache).glob(f"*/{stage}/*/manifest.json"), key=os.path.getmtime)
    return json.loads(manifests[-1].read_text()).get("wall_seconds") if manifests else None


def _epoch_estimate(cache: Path) -> tuple[int, float] | None:
    """(steps done, seconds) from the newest training checkpoint."""
    progress = sorted(cache.glob("*/train/.checkpoints/*/*/last/progress.json"),
                      key=os.path.getmtime)
    if not progress:
        return None
    state = json.loads(progress[-1].read_text())
    return state["step"], state["train_seconds"]


def stages(scale: int, out: Path, train_seconds: float) -> None:
    config = out / f"x{scale}" / "config.yaml"
    if not config.exists():
        config = make(scale, out)
    cache = config.parent / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    log = config.parent / "stages.log"
    base = [SRACL, "run", "-c", str(config)]
    print(f"{'stage':10s} {'compute s':>10s} {'command s':>10s} {'peak RSS GiB':>12s}")
    for stage in ("ingest", "prompts"):
        wall, rss, code = _timed([*base, "--until", stage], log)
        print(f"{stage:10s} {_manifest_seconds(cache, stage) or float('nan'):10.1f} "
              f"{wall:10.1f} {rss:12.2f}{'' if code == 0 else f'  (exit {code})'}")
    wall, rss, code = _timed([*base, "--until", "train", "--set", "train.objective=next_item",
                              "--set", "train.epochs=1",
                              "--set", "train.checkpoint_every_steps=50"], log, train_seconds)
    done = _epoch_estimate(cache)
    samples = pl.scan_parquet(next(cache.glob("*/ingest/*/train_samples.parquet"))).select(
        pl.len()).collect().item()
    steps = -(-samples // 256)
    if done and done[0]:
        per_step = done[1] / done[0]
        print(f"{'train':10s} {per_step * steps:10.0f} {wall:10.1f} {rss:12.2f}  "
              f"(one SASRec epoch of {steps:,} steps, from {done[0]} steps in {done[1]:.0f} s)")
    else:
        print(f"train: no checkpoint after {wall:.0f} s (exit {code}); see {log}")


def neighbours(scale: int, queries: int, config: str, k: int, nlist: int) -> None:
    import faiss
    from bench_semantic import profile_vectors

    from sracl_core.semantic.config import NeighboursConfig
    from sracl_core.semantic.neighbours import build_index

    real, what = profile_vectors(config, ["cache_root=/root/sracl-cache"], "user_embeddings")
    rng = np.random.default_rng(0)
    vectors = np.concatenate([real + rng.normal(0, 0.02, real.shape).astype(np.float32)
                              for _ in range(scale)])
    faiss.normalize_L2(vectors)
    chosen = np.sort(rng.choice(len(vectors), size=min(queries, len(vectors)), replace=False))
    print(f"x{scale}: {len(vectors):,} x {vectors.shape[1]} vectors "
          f"({vectors.nbytes / 2**30:.1f} GiB, copies of {what}), {len(chosen):,} queries, "
          f"k = {k}")
    for index, extra in (("flat", {}), ("ivf", {"nprobe": 16, "nlist": nlist})):
        settings = NeighboursConfig(index=index, k=k, **extra)
        started = time.perf_counter()
        built = build_index(vectors, settings)
        build = time.perf_counter() - started
        for start in range(0, len(chosen), 4096):
            built.search(vectors[chosen[start:start + 4096]], k + 1)
        search = time.perf_counter() - started - build
        total = build + search * len(vectors) / len(chosen)
        print(f"{index:5s} {settings.nlist or 'auto':>5} build {build:7.1f} s, search "
              f"{search:7.1f} s for {len(chosen):,} queries -> {total:9.0f} s for all "
              f"{len(vectors):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("make", "stages", "neighbours"):
        command = commands.add_parser(name)
        command.add_argument("--scale", type=int, required=True)
        command.add_argument("--out", type=Path, default=Path("/root/growth"))
        command.add_argument("--train-seconds", type=float, default=300.0)
        command.add_argument("--queries", type=int, default=20000)
        command.add_argument("--k", type=int, default=10)
        command.add_argument("--nlist", type=int, default=0, help="ivf clusters (0: the "
                             "stage's default, about 4 sqrt(n))")
        command.add_argument("--config", default="configs/beauty.yaml",
                             help="neighbours: whose cached user embeddings to copy")
    args = parser.parse_args()
    if args.command == "make":
        make(args.scale, args.out)
    elif args.command == "stages":
        stages(args.scale, args.out, args.train_seconds)
    else:
        neighbours(args.scale, args.queries, args.config, args.k, args.nlist)


if __name__ == "__main__":
    main()
