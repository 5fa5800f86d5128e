"""Wall seconds of the embedded default end to end: a first run on an empty cache, then a
fully cached re-run, each exactly as a user starts it (``sracl run`` in a new process,
Prefect's temporary server and MLflow tracking included).

    .venv/bin/python benchmarks/bench_pipeline.py [--config configs/default.yaml]
                                                  [--cache DIR] [--set key=value ...]

Targets on the 2-core reference machine: first run < 10 min, cached re-run < 1 min.
The cache defaults to a fresh temporary folder (the LLM response cache included, so
the first run really generates every profile); the downloaded/converted embedded
models are reused from the model cache as after ``make setup``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def timed_run(config: Path, cache: Path, overrides: list[str], log: Path) -> float:
    """Seconds of one ``sracl run``; its output goes to ``log``; a failure stops the benchmark."""
    command = [sys.executable, "-m", "flows.launcher", "run", "--config", str(config),
               "--set", f"cache_root={cache}"]
    for override in overrides:
        command += ["--set", override]
    env = {**os.environ, "PREFECT_HOME": str(cache / "prefect")}
    env.pop("PREFECT_API_URL", None)
    started = time.perf_counter()
    with log.open("w") as output:
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, stdout=output,
                                stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"sracl run failed ({result.returncode}); see {log}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "configs" / "default.yaml")
    parser.add_argument("--cache", type=Path, default=None,
                        help="cache root (must not exist); default: a new temporary folder")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="config override for both runs (repeatable)")
    args = parser.parse_args()
    cache = args.cache or Path(tempfile.mkdtemp(prefix="sracl-bench-")) / "cache"
    if cache.exists() and any(cache.iterdir()):
        sys.exit(f"{cache} is not empty; the first run must start from an empty cache")
    cache.mkdir(parents=True, exist_ok=True)
    first = timed_run(args.config, cache, args.overrides, cache.parent / "first_run.log")
    print(f"first run:   {first:7.1f} s  (target < 600 s)", flush=True)
    cached = timed_run(args.config, cache, args.overrides, cache.parent / "cached_run.log")
    print(f"cached run:  {cached:7.1f} s  (target < 60 s)")
    print(f"logs and cache: {cache.parent}")


if __name__ == "__main__":
    main()
