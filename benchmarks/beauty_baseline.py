"""Train on Amazon Beauty straight from the interactions file and print metrics per epoch.

    .venv/bin/python benchmarks/beauty_baseline.py                    # plain SASRec
    .venv/bin/python benchmarks/beauty_baseline.py --method sracl-cooc  # SRA-CL, co-occurrence
                                                                        # neighbours
    .venv/bin/python benchmarks/beauty_baseline.py --method sracl-cooc \
        --objective '{"neighbour_gradients": false}'                    # a fast variant

Plain SASRec with the paper's settings is the strong baseline SRA-CL is judged
against (issue 5, deliverable 7). Checkpoints go to --out, so a killed run resumes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sracl_core.rec import TrainConfig, leave_one_out, train
from sracl_core.rec.data import read_interactions
from sracl_core.rec.trainer import EpochReport

SHOWN = ["HR@5", "NDCG@5", "HR@10", "NDCG@10", "HR@20", "NDCG@20", "MRR@10"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/work/shared/datasets/beauty/interactions.txt")
    parser.add_argument("--method", choices=["sasrec", "sracl-cooc"], default="sasrec")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--objective", type=json.loads, default={},
                        help="JSON overrides of the objective section")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; 1 avoids oversubscription on a shared machine")
    parser.add_argument("--out", type=Path, default=Path("/tmp/sracl_beauty_baseline"))
    args = parser.parse_args()

    sequences, n_items = read_interactions(args.data)
    data = leave_one_out(sequences, n_items, max_len=20)
    objective = ({"use_cs": False, "use_is": False} if args.method == "sasrec"
                 else {"retrieval": "collaborative"}) | args.objective
    config = TrainConfig(epochs=args.epochs, objective=objective, progress=False,
                         num_threads=args.threads)
    print(f"{len(sequences)} users, {n_items} items, {data.train_prefixes.shape[0]} samples; "
          f"{args.method}, seed {args.seed}", flush=True)
    started = time.perf_counter()

    def report(r: EpochReport) -> None:
        shown = " ".join(f"{m}={r.valid['all/' + m]:.4f}" for m in SHOWN)
        losses = " ".join(f"{k}={v:.4f}" for k, v in r.losses.items())
        print(f"epoch {r.epoch:3d} train {r.train_seconds:5.1f}s eval {r.eval_seconds:4.1f}s "
              f"{losses} | valid {shown}{' *' if r.improved else ''}", flush=True)

    result = train(config, data, None, seed=args.seed, checkpoint_dir=args.out, on_epoch=report)
    print(f"best epoch {result.best_epoch}, total {time.perf_counter() - started:.0f}s")
    print("best valid", json.dumps({k: round(v, 4) for k, v in result.best_valid.items()}))
    print("test", json.dumps({k: round(v, 4) for k, v in result.test.items()}))


if __name__ == "__main__":
    main()
