"""Which dtype the CPU engine should compute in here: matmul speed at the embedded LLM's shapes.

    .venv/bin/python benchmarks/bench_cpu_dtypes.py [--tokens 256] [--threads 2]

The embedded model (SmolLM2-135M: hidden 576, MLP 1536) spends its time in matmuls
of ``tokens x 576`` by ``576 x 1536``. This times them in float32 and bfloat16 with
the project's torch, prints the CPU's vector capability and the dtype the vLLM
backend picks for it (``dtype: auto``), and the tokens per second one forward pass
allows at the measured float32 rate (2 x 135M FLOPs a token, attention aside).
Paste the printed Markdown rows into benchmarks/RESULTS.md with the command.
"""

from __future__ import annotations

import argparse
import time

import torch

PARAMETERS = 135e6
SHAPES = ((576, 1536), (1536, 576))


def gflops(dtype: torch.dtype, tokens: int, budget_s: float = 2.0) -> float:
    """Best of a few timed rounds, each at least ``budget_s / 4`` seconds."""
    pairs = [(torch.randn(tokens, k).to(dtype), torch.randn(k, n).to(dtype)) for k, n in SHAPES]
    flops = sum(2 * tokens * k * n for k, n in SHAPES)
    for a, b in pairs:
        a @ b
    best = 0.0
    for _ in range(4):
        rounds, started = 0, time.perf_counter()
        while time.perf_counter() - started < budget_s / 4:
            for a, b in pairs:
                a @ b
            rounds += 1
        best = max(best, rounds * flops / (time.perf_counter() - started) / 1e9)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=256, help="rows per matmul (in flight)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from sracl_core.semantic.backends.vllm_backend import _cpu_dtype

    print(f"torch {torch.__version__}, capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{args.threads} threads; vLLM backend's dtype here: {_cpu_dtype()}")
    print("| dtype | GFLOP/s | tokens/s one forward pass allows |")
    print("|---|---|---|")
    for dtype in (torch.float32, torch.bfloat16):
        rate = gflops(dtype, args.tokens)
        print(f"| {str(dtype).removeprefix('torch.')} | {rate:.2f} | "
              f"{rate * 1e9 / (2 * PARAMETERS):.0f} |")


if __name__ == "__main__":
    main()
