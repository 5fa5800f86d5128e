"""The real SRA-CL training step on glibc's malloc against tcmalloc, paired in one run.

    .venv/bin/python benchmarks/bench_allocator.py -c configs/beauty.yaml \\
        --set cache_root=/root/sracl-cache [--set profiles.backend=text] \\
        [--steps 8] [--rounds 2] [--threads 1] [--jobs 2]

The step is the train stage's own: its training data and semantic neighbours are read
from the config's cached ingest, prompts, embeddings and neighbours artifacts (run
``sracl run -c ... --until neighbours`` first), the objective is built by the trainer,
and the batches are an epoch's permutation. Each round runs one fresh process per
allocator, alternating, so machine load hits both alike (``SRACL_MALLOC`` chooses, as
for the ``sracl`` command); ``--jobs 2`` runs two such processes at once, as
``sracl experiment --jobs 2 --threads 1`` trains two runs side by side. It prints
seconds per step, process CPU seconds per step, peak RSS and a digest of the parameters
after the steps: the allocator may change the speed, never the bits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from sracl_core.allocator import exec_with_allocator


def measure(args: argparse.Namespace) -> dict[str, object]:
    """Time ``args.steps`` steps after ``args.warmup`` untimed ones, in this process."""
    import torch

    from sracl_core.allocator import active_allocator
    from sracl_core.config import load_config
    from sracl_core.rec.trainer import build_objective, epoch_permutation
    from sracl_core.stages.context import StageContext
    from sracl_core.stages.graph import outputs_of
    from sracl_core.stages.rec_inputs import semantic_neighbours, training_data

    torch.set_num_threads(args.threads)
    config = load_config(args.config, args.overrides)
    context = StageContext(config, outputs_of(config), writer=None)  # type: ignore[arg-type]
    data, neighbours = training_data(context), semantic_neighbours(context)
    torch.manual_seed(0)
    module, _ = build_objective(config.train, data, neighbours)
    optimizer = torch.optim.Adam(module.parameters(), lr=config.train.lr)
    generator = torch.Generator().manual_seed(1)
    order = epoch_permutation(data.train_targets.numel(), 0, 0)
    size = config.train.batch_size

    autocast = torch.autocast("cpu", dtype=torch.bfloat16,
                              enabled=config.train.precision == "bf16")

    def step(i: int) -> None:
        samples = order[i * size:(i + 1) * size]
        with autocast:  # as the trainer does
            parts = module(data.train_prefixes[samples], data.train_targets[samples], samples,
                           generator)
        optimizer.zero_grad(set_to_none=True)
        parts["total"].backward()
        optimizer.step()

    warmup = args.warmup
    for i in range(warmup):
        step(i)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(warmup, warmup + args.steps):
        step(i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in module.parameters()))
    return {"allocator": active_allocator(), "wall": wall / args.steps, "cpu": cpu / args.steps,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "digest": digest.hexdigest()[:16]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", default="configs/beauty.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="processes at once per allocator")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        exec_with_allocator()  # before torch is imported; returns at once on 'system'
        print(json.dumps(measure(args)))
        return
    results: dict[str, list[dict[str, object]]] = {"system": [], "auto": []}
    for round_ in range(args.rounds):
        for choice in results:
            workers = [subprocess.Popen([sys.executable, __file__, "--worker", *sys.argv[1:]],
                                        env={**os.environ, "SRACL_MALLOC": choice},
                                        stdout=subprocess.PIPE, text=True)
                       for _ in range(args.jobs)]
            for worker in workers:
                out, _ = worker.communicate()
                if worker.returncode:
                    raise SystemExit(f"a {choice} worker failed ({worker.returncode})")
                result = json.loads(out.splitlines()[-1])
                results[choice].append(result)
                print(f"round {round_} {result['allocator']:8s} {result['wall']:.3f} s/step "
                      f"wall, {result['cpu']:.3f} CPU, peak {result['peak_mib']:.0f} MiB, "
                      f"params {result['digest']}", flush=True)
    medians = {choice: statistics.median(float(r["wall"]) for r in rows)
               for choice, rows in results.items()}
    cpu = {choice: statistics.median(float(r["cpu"]) for r in rows)
           for choice, rows in results.items()}
    digests = {str(r["digest"]) for rows in results.values() for r in rows}
    print(f"median s/step: glibc {medians['system']:.3f}, {results['auto'][0]['allocator']} "
          f"{medians['auto']:.3f} ({medians['system'] / medians['auto']:.2f}x wall, "
          f"{cpu['system'] / cpu['auto']:.2f}x CPU); same parameters: {len(digests) == 1}")


if __name__ == "__main__":
    main()
