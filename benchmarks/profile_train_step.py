"""Where one training step's time goes: per-variant s/step, then a torch.profiler table.

    .venv/bin/python benchmarks/profile_train_step.py [--device cuda] [--variants sasrec,sracl]

Uses the same data (``--config``'s data.source, or ``--data``), timing neighbours
and steps as ``bench_train.py``, and prints as it goes (so a run cut short still
says something). The profiler table lists the operators by self device time
(CUDA) or self CPU time, which tells launch-bound work (many short kernels, host
time >> device time) from compute.
"""

from __future__ import annotations

import argparse
import time

import torch
from bench_train import beauty, make_steps, synchronize, timing_neighbours
from torch.profiler import ProfilerActivity, profile

from sracl_core.script_data import add_data_arguments, resolve_data_arguments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--variants", default="sasrec,sracl")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per variant")
    parser.add_argument("--profile", default="sracl", help="variant to profile ('' for none)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    resolve_data_arguments(parser, args)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    started = time.perf_counter()
    data = beauty(args.data)
    nb = timing_neighbours(data).to(device)
    synchronize(device)
    print(f"setup {time.perf_counter() - started:.1f}s on {device}", flush=True)

    steps = {}
    for variant in args.variants.split(","):
        steps[variant] = make_steps(data, nb, variant, device)
        begun = time.perf_counter()
        steps[variant](0)
        synchronize(device)
        first = time.perf_counter() - begun
        begun = time.perf_counter()
        for i in range(1, args.steps + 1):
            steps[variant](i)
        synchronize(device)
        per_step = (time.perf_counter() - begun) / args.steps
        print(f"{variant:14s} first step {first:6.3f}s, then {per_step:.4f} s/step", flush=True)

    if args.profile:
        step = steps.get(args.profile) or make_steps(data, nb, args.profile, device)
        activities = [ProfilerActivity.CPU]
        if device.type == "cuda":
            activities.append(ProfilerActivity.CUDA)
        with profile(activities=activities) as prof:
            for i in range(args.steps + 1, args.steps + 4):
                step(i)
            synchronize(device)
        key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
        print(prof.key_averages().table(sort_by=key, row_limit=20, max_name_column_width=45),
              flush=True)


if __name__ == "__main__":
    main()
