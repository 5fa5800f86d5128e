"""Seconds per full Beauty epoch through the product's trainer, and per full-ranking evaluation.

    .venv/bin/python benchmarks/bench_epoch.py --device cuda [--epochs 3] [--variants sasrec,sracl]
    .venv/bin/python benchmarks/bench_epoch.py --device cpu --epochs 1 --threads 2

Unlike ``bench_train.py`` (single steps), this runs ``sracl_core.rec.trainer.train``
itself: the epoch loop, checkpoints, the validation pass over every user (22,363
on Beauty, full ranking over 12,101 items) and the test pass, so it times what a
pipeline run's train stage pays. Neighbours are the timing neighbours of
``bench_train.py``. The first epoch carries the warm-up (cuDNN plans, allocator
growth); the table reports the median of the later ones. Targets (issue 11): an
exact SRA-CL epoch in at most 1.5 s and a full evaluation in under 1 s on an
H100/H200.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from bench_train import beauty, timing_neighbours

from sracl_core.rec.config import TrainConfig
from sracl_core.rec.metrics import evaluate
from sracl_core.rec.trainer import train
from sracl_core.script_data import add_data_arguments, resolve_data_arguments

OBJECTIVES = {"sasrec": "next_item", "sracl": "sracl"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--variants", default="sasrec,sracl")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (CPU only)")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    args = parser.parse_args()
    resolve_data_arguments(parser, args)
    data = beauty(args.data)
    neighbours = timing_neighbours(data)
    where = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"torch {torch.__version__} on {where}, {args.precision}, "
          f"{data.train_prefixes.shape[0]} training samples, {data.valid.inputs.shape[0]} users")
    print(f"{'variant':8s} {'first epoch s':>13s} {'epoch s':>8s} {'valid eval s':>12s} "
          f"{'test eval s':>11s} {'valid NDCG@10':>13s}")
    for variant in args.variants.split(","):
        config = TrainConfig(objective=OBJECTIVES[variant], device=args.device,
                             epochs=args.epochs, patience=args.epochs, progress=False,
                             num_threads=args.threads, precision=args.precision)
        with tempfile.TemporaryDirectory() as folder:
            result = train(config, data, neighbours, seed=0, checkpoint_dir=Path(folder))
        history = result.history
        later = [r.train_seconds for r in history[1:]] or [history[0].train_seconds]
        model, test = result.model, data.test.to(args.device)
        if args.device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        evaluate(model, test.inputs, test.targets, exclude_history=False,
                 batch_size=config.eval_batch_size)
        if args.device == "cuda":
            torch.cuda.synchronize()
        test_seconds = time.perf_counter() - started
        print(f"{variant:8s} {history[0].train_seconds:13.2f} {statistics.median(later):8.2f} "
              f"{statistics.median(r.eval_seconds for r in history):12.2f} {test_seconds:11.2f} "
              f"{history[-1].valid['all/NDCG@10']:13.4f}", flush=True)


if __name__ == "__main__":
    main()
