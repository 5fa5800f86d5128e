#!/usr/bin/env python3
"""End-to-end check of the Docker deployment, from scratch; exits non-zero on any failure.

1. Builds sracl-cpu:latest without a registry (docker/build-local.sh), from the HEAD commit
   (--worktree: the work tree with its uncommitted changes).
2. Runs the embedded default (`sracl run`, the image's CMD) in a container with its cache
   on a fresh named volume, then again on that volume: the second run must report every
   stage cached ("N stages: N cached, 0 computed").
3. Brings up the compose stack (Prefect server, MLflow server, deploy job, CPU worker) on
   fresh volumes; checks that `prefect deploy --all` registered the deployments; triggers
   sracl-pipeline/nightly and waits for the flow run to complete on the worker; checks
   that the MLflow server holds its run, test metrics, artifacts and the registered model;
   serves that model with `mlflow models serve` and sends it a request; loads the Prefect
   and MLflow UI pages in headless Chromium; `docker compose restart`s the stack and checks
   that all of it is still there, the worker back online and a second nightly run cached.

Writes a JSON report (timings, image size, run summaries, ids) to --report.

    python3 docker/e2e.py                      # everything; the stack is left running
    python3 docker/e2e.py --skip-build --down  # reuse the image; stop the stack at the end
    python3 docker/e2e.py --no-cache           # the image built without the layer cache

--pause-pgid PGID (or $SRACL_PAUSE_PGID) stops that process group (SIGSTOP) while the
pipeline runs in a container and resumes it (SIGCONT) right after, also on failure, on
Ctrl-C and (a detached watchdog) if this script is killed: vLLM on CPU spin-waits, and two
engines on one small machine thrash it.

Only the standard library, so it runs from any Python >= 3.9 on the host. Needs a Docker
engine, Compose v2 (`docker compose`), root for debootstrap (the first build) and, for the
UI checks, `chromium` (skipped with a note when missing, unless --require-browser).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from e2e_stack import (
    browser_checks,
    check_mlflow,
    compose,
    deployments,
    run_nightly,
    serve_model,
    task_names,
    wait_stack,
)
from e2e_support import PREFECT, ROOT, STAGES, SUMMARY, Failed, Pause, check, http, log, sh

# ---------------------------------------------------------------------------- 1. image

def build(args: argparse.Namespace, report: dict[str, Any]) -> None:
    image_report = Path("/tmp/sracl-e2e-build.txt")
    env = dict(os.environ, SRACL_BUILD_REPORT=str(image_report), SRACL_IMAGE=args.image)
    cmd = ["bash", "docker/build-local.sh"]
    if not args.worktree:
        cmd += ["--git", "HEAD"]
    if args.no_cache:
        cmd.append("--no-cache")
    if args.rebuild_base:
        cmd.append("--rebuild-base")
    log(f"building: {' '.join(cmd)}")
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env)
    check(proc.returncode == 0, f"docker/build-local.sh exited {proc.returncode}")
    values = dict(line.split("=", 1) for line in image_report.read_text().split())
    report["build"] = {"seconds": round(time.monotonic() - start, 1),
                       "image_bytes": int(values["image_bytes"]),
                       "base_image_bytes": int(values["base_image_bytes"]),
                       "no_cache": args.no_cache}


def image_facts(args: argparse.Namespace, report: dict[str, Any]) -> None:
    size = sh(["docker", "image", "inspect", "-f", "{{.Size}}", args.image]).stdout.strip()
    report.setdefault("build", {})["image_bytes"] = int(size)
    log(f"{args.image}: {int(size) / 1e9:.2f} GB")


# ------------------------------------------------------------------ 2. sracl run twice

def volume_runs(args: argparse.Namespace, report: dict[str, Any], pause: Pause) -> None:
    volume = "sracl-e2e-cache"
    sh(["docker", "volume", "rm", "-f", volume])
    runs = []
    for attempt in (1, 2):
        cmd = ["docker", "run", "--rm", "--name", f"sracl-e2e-run{attempt}", "--shm-size", "1g",
               "-v", f"{volume}:/opt/sracl/.sracl_cache", args.image]
        log(f"run {attempt}: {' '.join(cmd)} (the image's CMD: sracl run, default config)")
        start = time.monotonic()
        with pause:
            proc = sh(cmd, timeout=args.run_timeout, ok=False)
        seconds = round(time.monotonic() - start, 1)
        out = proc.stdout or ""
        check(proc.returncode == 0, f"run {attempt} exited {proc.returncode}:\n{out[-3000:]}")
        found = SUMMARY.findall(out)
        check(bool(found), f"run {attempt} printed no 'N stages: ...' line:\n{out[-3000:]}")
        total, cached, computed = map(int, found[-1])
        line = f"{total} stages: {cached} cached, {computed} computed"
        log(f"run {attempt}: {line} in {seconds} s")
        runs.append({"seconds": seconds, "summary": line})
        check(total == STAGES, f"run {attempt}: expected {STAGES} stages, got '{line}'")
        if attempt == 1:
            # `sracl run` reads the input (ingest) before Prefect starts, so in the flow
            # ingest is found cached; every later stage is computed.
            check(computed >= STAGES - 1,
                  f"run 1 on an empty volume: expected the stages after ingest computed: '{line}'")
        else:
            check(cached == total and computed == 0,
                  f"run 2 on the same volume: expected all cached: '{line}'")
    report["volume_runs"] = runs


def stack(args: argparse.Namespace, report: dict[str, Any], pause: Pause) -> None:
    log("compose down -v (fresh volumes), then up -d")
    compose("down", "-v", "--remove-orphans", timeout=300)
    start = time.monotonic()
    compose("up", "-d", "--no-build", timeout=600)
    wait_stack(args.stack_timeout)
    up_seconds = round(time.monotonic() - start, 1)
    log(f"stack up and deployed in {up_seconds} s")
    deps = deployments()
    check("sracl-pipeline/nightly" in deps and "sracl-pipeline/nightly-gpu" in deps,
          f"deployments registered: {deps}")
    log(f"{len(deps)} deployments: {', '.join(deps)}")

    run, run_seconds = run_nightly(args, pause)
    tasks = task_names(run["id"])
    check(len(tasks) == STAGES
          and all(t.endswith("-computed") for t in tasks if not t.startswith("ingest")),
          f"first nightly run on a fresh cache: expected {STAGES} computed tasks, got {tasks}")
    ml = check_mlflow(run["id"])
    log(f"MLflow run {ml['run_id']}: {ml['test_metrics']}, model versions {ml['model_versions']}")
    served = serve_model(ml["model_versions"][-1])
    ui = browser_checks(run["id"], ml, args.require_browser)

    log("docker compose restart")
    start = time.monotonic()
    compose("restart", timeout=600)
    wait_stack(args.stack_timeout)
    restart_seconds = round(time.monotonic() - start, 1)
    after = http("GET", f"{PREFECT}/flow_runs/{run['id']}")
    check(after["state_type"] == "COMPLETED",
          f"after restart, flow run {run['id']} is {after['state_type']}")
    check(deployments() == deps, f"after restart, deployments changed: {deployments()}")
    check(task_names(run["id"]) == tasks, "after restart, the flow run's task runs changed")
    ml_after = check_mlflow(run["id"])
    check(ml_after == ml, f"after restart, MLflow differs: {ml_after} vs {ml}")
    log(f"after restart ({restart_seconds} s): flow run, deployments, MLflow run, metrics, "
        "artifacts and model all still there")
    run2, run2_seconds = run_nightly(args, pause)
    tasks2 = task_names(run2["id"])
    check(len(tasks2) == STAGES and all(t.endswith("-cached") for t in tasks2),
          f"nightly run after restart: expected {STAGES} cached tasks (cache volume kept), "
          f"got {tasks2}")
    ml2 = check_mlflow(run2["id"])
    check(ml2["model_versions"] == ml["model_versions"],
          f"cached re-run registered a new model version: {ml2['model_versions']}")
    log(f"nightly run after restart: all {STAGES} stages cached, in {run2_seconds} s")
    report["stack"] = {
        "up_seconds": up_seconds, "deployments": deps,
        "flow_run": {"id": run["id"], "seconds": run_seconds, "tasks": tasks},
        "mlflow": ml, "serve": served, "ui": ui, "restart_seconds": restart_seconds,
        "flow_run_after_restart": {"id": run2["id"], "seconds": run2_seconds, "tasks": tasks2},
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--image", default=os.environ.get("SRACL_IMAGE", "sracl-cpu:latest"))
    p.add_argument("--skip-build", action="store_true", help="use the existing image")
    p.add_argument("--no-cache", action="store_true", help="build without the layer cache")
    p.add_argument("--worktree", action="store_true",
                   help="build the work tree as it is (default: the HEAD commit, so that "
                        "half-edited files of a shared checkout stay out of the image)")
    p.add_argument("--rebuild-base", action="store_true", help="debootstrap the base again")
    p.add_argument("--skip-volume-runs", action="store_true")
    p.add_argument("--skip-stack", action="store_true")
    p.add_argument("--down", action="store_true", help="docker compose down at the end")
    p.add_argument("--require-browser", action="store_true")
    p.add_argument("--pause-pgid", type=int,
                   default=int(os.environ.get("SRACL_PAUSE_PGID") or 0) or None)
    p.add_argument("--run-timeout", type=float, default=1800)
    p.add_argument("--stack-timeout", type=float, default=300)
    p.add_argument("--report", type=Path, default=Path("/tmp/sracl-e2e-report.json"))
    args = p.parse_args()

    # Ctrl-C and SIGTERM unwind through the `with pause` blocks, which resume the group.
    def on_term(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    pause = Pause(args.pause_pgid)
    report: dict[str, Any] = {"image": args.image, "started": time.strftime("%FT%TZ",
                                                                        time.gmtime())}
    start = time.monotonic()
    try:
        sh(["docker", "info"], timeout=30)
        if not args.skip_build:
            build(args, report)
        image_facts(args, report)
        if not args.skip_volume_runs:
            volume_runs(args, report, pause)
        if not args.skip_stack:
            stack(args, report, pause)
        report["ok"] = True
    except (Failed, subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
        report["ok"] = False
        report["error"] = str(exc) or type(exc).__name__
        print(f"e2e: FAILED: {report['error']}", file=sys.stderr)
    finally:
        report["seconds"] = round(time.monotonic() - start, 1)
        if args.down and not args.skip_stack:
            compose("down", timeout=300, ok=False)
        args.report.write_text(json.dumps(report, indent=2))
        log(f"report: {args.report} ({report['seconds']} s, ok={report.get('ok')})")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
