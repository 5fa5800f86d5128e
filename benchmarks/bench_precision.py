"""The real SRA-CL training step in fp32 against bf16 autocast on CPU, paired in one run.

    .venv/bin/python benchmarks/bench_precision.py -c configs/beauty.yaml \\
        --set cache_root=/root/sracl-cache [--steps 16] [--warmup 40] [--rounds 2] [--threads 1]

The step is the train stage's own (``bench_allocator.measure``: the config's cached
training data and neighbours, the trainer's objective, under the trainer's autocast).
Three arms, each a fresh process, alternating so that machine load hits all alike:

- ``fp32``: ``train.precision=fp32`` (the paper's setting);
- ``bf16``: ``train.precision=bf16`` as the product runs it on CPU, length buckets padded
  to multiples of ``BF16_CPU_ROW_MULTIPLE`` rows;
- ``bf16-free-buckets``: the same with bucket sizes left free (the product before the
  padding), where oneDNN compiles a kernel for almost every matrix product.

bf16 kernels are compiled for each new shape on first use, so the timed steps follow
``--warmup`` untimed ones. It prints seconds per step, CPU seconds, peak RSS and the
ratios to fp32. bf16 changes the math (it is a protocol switch, not a speed-up of the
fp32 step); its effect on the metrics is measured by ``experiments/beauty-protocol.yaml``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

ARMS = {"fp32": ["train.precision=fp32"], "bf16": ["train.precision=bf16"],
        "bf16-free-buckets": ["train.precision=bf16"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", default="configs/beauty.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--arm", choices=list(ARMS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm:
        from sracl_core.allocator import exec_with_allocator

        exec_with_allocator()  # before torch is imported, as the sracl command does
        from bench_allocator import measure

        from sracl_core.rec.backbones import sasrec

        if args.arm == "bf16-free-buckets":
            sasrec.BF16_CPU_ROW_MULTIPLE = 1
        args.overrides += ARMS[args.arm]
        print(json.dumps(measure(args)))
        return
    results: dict[str, list[dict[str, float]]] = {arm: [] for arm in ARMS}
    for round_ in range(args.rounds):
        for arm in ARMS:
            out = subprocess.run([sys.executable, __file__, "--arm", arm, *sys.argv[1:]],
                                 stdout=subprocess.PIPE, text=True, check=True).stdout
            result = json.loads(out.splitlines()[-1])
            results[arm].append(result)
            print(f"round {round_} {arm:18s} {result['wall']:.3f} s/step wall, "
                  f"{result['cpu']:.3f} CPU, peak {result['peak_mib']:.0f} MiB", flush=True)
    wall = {arm: statistics.median(r["wall"] for r in rows) for arm, rows in results.items()}
    print("| arm | s/step (median) | vs fp32 |\n|---|---:|---:|")
    for arm, seconds in wall.items():
        print(f"| {arm} | {seconds:.3f} | {wall['fp32'] / seconds:.2f}x |")


if __name__ == "__main__":
    main()
