"""Train on Amazon Beauty straight from the interactions file and print metrics per epoch.

    .venv/bin/python benchmarks/beauty_baseline.py                    # plain SASRec
    .venv/bin/python benchmarks/beauty_baseline.py --config configs/sports.yaml
    .venv/bin/python benchmarks/beauty_baseline.py --data /path/interactions.txt
    .venv/bin/python benchmarks/title_neighbours.py --out /tmp/nb.safetensors
    .venv/bin/python benchmarks/beauty_baseline.py --method sracl --neighbours /tmp/nb.safetensors
    .venv/bin/python benchmarks/beauty_baseline.py --method sracl-cooc  # co-occurrence
                                                                        # neighbours (ablation)
    .venv/bin/python benchmarks/beauty_baseline.py --method sracl --neighbours ... \
        --objective '{"neighbour_gradients": false}'                    # a fast variant

The data is the ``data.source`` (format: sasrec) of ``--config`` (default
``configs/beauty.yaml``), or the file ``--data`` names.

Plain SASRec with the paper's settings is the strong baseline SRA-CL is judged
against (issue 5, deliverable 7). Checkpoints go to --out, so a killed run resumes.
``--json`` rewrites a machine-readable record after every epoch (so a run cut
short still leaves its history); ``--test-each-epoch`` adds, per epoch, the test
metrics of the best checkpoint so far, i.e. what the run would report had it
stopped there, which lets runs be compared at equal epoch counts.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from sracl_core.data.source_files import add_data_arguments, resolve_data_arguments
from sracl_core.rec import (
    EvaluateConfig,
    SemanticNeighbours,
    TrainConfig,
    evaluate_split,
    leave_one_out,
    load_model,
)
from sracl_core.rec.data import TrainingData, read_interactions
from sracl_core.rec.trainer import BEST, EpochReport, resolve_device, train

SHOWN = ["HR@5", "NDCG@5", "HR@10", "NDCG@10", "HR@20", "NDCG@20", "MRR@10"]


class DeadlineReached(Exception):
    """Raised after the epoch that crosses --deadline-s; the best checkpoint is then tested."""


def read_neighbours(path: Path) -> SemanticNeighbours:
    """The tensors written by ``title_neighbours.py`` (embeddings stored in half precision)."""
    tensors = load_file(str(path))
    tensors["profile_embeddings"] = tensors["profile_embeddings"].float()
    return SemanticNeighbours(**tensors)


def test_metrics(checkpoint_dir: Path, data: TrainingData, device: torch.device,
                 batch_size: int) -> dict[str, float]:
    """Both test variants (all items ranked, and seen items removed) of the best checkpoint."""
    best = load_model(checkpoint_dir / BEST, device)
    return evaluate_split(best, data.test.to(device),
                          EvaluateConfig(exclude_history=[False, True], batch_size=batch_size))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--method", choices=["sasrec", "sracl", "sracl-cooc"], default="sasrec")
    parser.add_argument("--neighbours", type=Path,
                        help="--method sracl: a file written by title_neighbours.py")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--early-stopping-metric", default="NDCG@10")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--objective", type=json.loads, default={},
                        help="JSON overrides of the objective section")
    parser.add_argument("--device", default="auto", help="auto: cuda when present")
    parser.add_argument("--no-amp", action="store_true", help="float32 on CUDA (no bf16)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; 1 avoids oversubscription on a shared machine")
    parser.add_argument("--deadline-s", type=float,
                        help="stop after the epoch that ends past this many seconds")
    parser.add_argument("--test-each-epoch", action="store_true")
    parser.add_argument("--json", type=Path, help="write the run record here after every epoch")
    parser.add_argument("--out", type=Path, default=Path("/tmp/sracl_beauty_baseline"))
    args = parser.parse_args()
    resolve_data_arguments(parser, args)
    if args.method == "sracl" and args.neighbours is None:
        parser.error("--method sracl needs --neighbours FILE (see title_neighbours.py)")
    return args


def main() -> None:
    args = parse_args()
    sequences, n_items = read_interactions(args.data)
    data = leave_one_out(sequences, n_items, max_len=20)
    objective = {"sasrec": {"use_cs": False, "use_is": False},
                 "sracl": {},
                 "sracl-cooc": {"retrieval": "collaborative"}}[args.method] | args.objective
    config = TrainConfig(epochs=args.epochs, patience=args.patience, objective=objective,
                         early_stopping_metric=args.early_stopping_metric, device=args.device,
                         amp=not args.no_amp, progress=False, num_threads=args.threads)
    neighbours = read_neighbours(args.neighbours) if args.method == "sracl" else None
    device = resolve_device(config.device)
    record: dict[str, Any] = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "config": config.model_dump(mode="json"),
        "versions": {"python": platform.python_version(), "torch": torch.__version__},
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "data": {"users": len(sequences), "items": n_items,
                 "samples": int(data.train_prefixes.shape[0])},
        "epochs": [],
    }

    def save_record() -> None:
        if args.json is not None:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(record, indent=1))

    print(f"{len(sequences)} users, {n_items} items, {data.train_prefixes.shape[0]} samples; "
          f"{args.method}, seed {args.seed}, {record['device']}", flush=True)
    started = time.perf_counter()
    best_test: dict[str, float] = {}

    def report(r: EpochReport) -> None:
        nonlocal best_test
        shown = " ".join(f"{m}={r.valid['all/' + m]:.4f}" for m in SHOWN)
        losses = " ".join(f"{k}={v:.4f}" for k, v in r.losses.items())
        print(f"epoch {r.epoch:3d} train {r.train_seconds:5.1f}s eval {r.eval_seconds:4.1f}s "
              f"{losses} | valid {shown}{' *' if r.improved else ''}", flush=True)
        entry = r.as_dict()
        if args.test_each_epoch:
            if r.improved:
                best_test = test_metrics(args.out, data, device, config.eval_batch_size)
            entry["test_of_best_so_far"] = best_test
        record["epochs"].append(entry)
        save_record()
        if args.deadline_s is not None and time.perf_counter() - started > args.deadline_s:
            raise DeadlineReached

    try:
        result = train(config, data, neighbours, seed=args.seed, checkpoint_dir=args.out,
                       on_epoch=report)
        best_epoch, best_valid, test = result.best_epoch, result.best_valid, result.test
        finished = "early stop" if result.stopped_early else "epoch cap"
    except DeadlineReached:
        best_epoch = record["epochs"][-1]["best_epoch"]
        best_valid = next(e["valid"] for e in record["epochs"] if e["epoch"] == best_epoch)
        test = test_metrics(args.out, data, device, config.eval_batch_size)
        finished = f"deadline of {args.deadline_s:.0f}s"
    seconds = time.perf_counter() - started
    record["result"] = {"best_epoch": best_epoch, "finished": finished, "seconds": seconds,
                        "best_valid": best_valid, "test": test}
    save_record()
    print(f"best epoch {best_epoch} ({finished}), total {seconds:.0f}s")
    print("best valid", json.dumps({k: round(v, 4) for k, v in best_valid.items()}))
    print("test", json.dumps({k: round(v, 4) for k, v in test.items()}))


if __name__ == "__main__":
    main()
