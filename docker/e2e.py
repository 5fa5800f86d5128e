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
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ["docker", "compose", "-f", str(ROOT / "docker" / "compose.yaml")]
PREFECT = "http://127.0.0.1:4200/api"
MLFLOW = "http://127.0.0.1:5000"
SERVE_PORT = 5001
SUMMARY = re.compile(r"^(\d+) stages: (\d+) cached, (\d+) computed$", re.M)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAGES = 7
MODEL = "sracl-beauty-sample"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class Failed(Exception):
    """One check did not hold; the message says which and what was seen."""


def log(msg: str) -> None:
    print(f"e2e: {msg}", flush=True)


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise Failed(msg)


def sh(cmd: list[str], *, timeout: float = 600, capture: bool = True,
       ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command; with ok=True a non-zero exit is a failure showing its output's tail."""
    proc = subprocess.run(cmd, cwd=ROOT, text=True, timeout=timeout,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.STDOUT if capture else None)
    if ok and proc.returncode != 0:
        tail = (proc.stdout or "")[-3000:]
        raise Failed(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{tail}")
    return proc


def http(method: str, url: str, body: Any = None, timeout: float = 30) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def wait_for(what: str, probe, timeout: float, every: float = 2.0) -> Any:
    """Call probe() until it returns something truthy (exceptions count as not yet)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
            last = value
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(every)
    raise Failed(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


class Pause:
    """SIGSTOP a process group for the duration of a `with` block; always SIGCONT it."""

    def __init__(self, pgid: int | None) -> None:
        self.pgid = pgid
        self.watchdog: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Pause:
        if self.pgid:
            # Resumes the group if this process dies without running __exit__ (SIGKILL).
            self.watchdog = subprocess.Popen(
                ["bash", "-c", f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
                               f"kill -CONT -{self.pgid} 2>/dev/null || true"],
                start_new_session=True)
            os.killpg(self.pgid, signal.SIGSTOP)
            log(f"paused process group {self.pgid}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pgid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGCONT)
            log(f"resumed process group {self.pgid}")
            if self.watchdog:
                self.watchdog.terminate()


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


# ------------------------------------------------------------------------- 3. stack

def compose(*args: str, timeout: float = 600, ok: bool = True) -> str:
    return sh([*COMPOSE, *args], timeout=timeout, ok=ok).stdout or ""


def service_state(service: str) -> dict[str, Any]:
    out = compose("ps", "-a", "--format", "json", service)
    rows = [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]
    if len(rows) == 1 and isinstance(rows[0], list):  # older Compose: one JSON array
        rows = rows[0]
    return rows[0] if rows else {}


def wait_stack(timeout: float) -> None:
    wait_for("the Prefect server", lambda: http("GET", f"{PREFECT}/health"), timeout)
    wait_for("the MLflow server",
             lambda: urllib.request.urlopen(f"{MLFLOW}/health", timeout=5).status == 200,
             timeout)

    def deployed() -> bool:
        st = service_state("prefect-deploy")
        if st.get("State") == "exited" and st.get("ExitCode", 0) != 0:
            raise Failed(f"prefect-deploy exited {st.get('ExitCode')}:\n"
                         + compose("logs", "--tail", "40", "prefect-deploy", ok=False))
        return st.get("State") == "exited"

    wait_for("the prefect-deploy job", deployed, timeout)
    wait_for("a CPU worker online", worker_online, timeout)


def worker_online() -> bool:
    workers = http("POST", f"{PREFECT}/work_pools/sracl-cpu/workers/filter", {})
    return any(w.get("status") == "ONLINE" for w in workers)


def deployments() -> list[str]:
    rows = http("POST", f"{PREFECT}/deployments/filter", {})
    flows = {f["id"]: f["name"] for f in http("POST", f"{PREFECT}/flows/filter", {})}
    return sorted(f"{flows.get(d['flow_id'], '?')}/{d['name']}" for d in rows)


def run_nightly(args: argparse.Namespace, pause: Pause) -> tuple[dict[str, Any], float]:
    """Trigger sracl-pipeline/nightly (the documented command) and wait for its end."""
    start = time.monotonic()
    with pause:
        out = compose("exec", "-T", "worker-cpu", "prefect", "deployment", "run",
                      "sracl-pipeline/nightly", timeout=120)
        ids = UUID.findall(out)
        check(bool(ids), f"`prefect deployment run` printed no flow run id:\n{out}")
        run_id = ids[-1]
        log(f"flow run {run_id} triggered; waiting for the worker")

        def ended() -> dict[str, Any] | None:
            run = http("GET", f"{PREFECT}/flow_runs/{run_id}")
            return run if run["state_type"] in TERMINAL else None
        run = wait_for(f"flow run {run_id}", ended, args.run_timeout, every=5)
    seconds = round(time.monotonic() - start, 1)
    if run["state_type"] != "COMPLETED":
        logs = compose("logs", "--tail", "80", "worker-cpu", ok=False)
        raise Failed(f"flow run {run_id} ended {run['state_type']}: "
                     f"{run['state'].get('message')}\n{logs[-4000:]}")
    log(f"flow run {run_id} COMPLETED in {seconds} s")
    return run, seconds


def task_names(flow_run_id: str) -> list[str]:
    rows = http("POST", f"{PREFECT}/task_runs/filter",
                {"flow_runs": {"id": {"any_": [flow_run_id]}}})
    return sorted(r["name"] for r in rows)


def mlflow_run(flow_run_id: str) -> dict[str, Any]:
    exp = http("GET", f"{MLFLOW}/api/2.0/mlflow/experiments/get-by-name?"
                      + urllib.parse.urlencode({"experiment_name": "sracl"}))["experiment"]
    found = http("POST", f"{MLFLOW}/api/2.0/mlflow/runs/search",
                 {"experiment_ids": [exp["experiment_id"]],
                  "filter": f"tags.`prefect.flow_run_id` = '{flow_run_id}'"})
    # The stage runs nested in it carry the same tag; the pipeline run is the parent.
    runs = [r for r in found.get("runs", [])
            if not any(t["key"] == "mlflow.parentRunId" for t in r["data"].get("tags", []))]
    check(len(runs) == 1, f"MLflow: expected one pipeline run tagged with flow run "
                          f"{flow_run_id}, found {len(runs)}")
    return runs[0]


def check_mlflow(flow_run_id: str) -> dict[str, Any]:
    run = mlflow_run(flow_run_id)
    info, data = run["info"], run["data"]
    check(info["status"] == "FINISHED", f"MLflow run {info['run_id']} is {info['status']}")
    metrics = {m["key"]: m["value"] for m in data.get("metrics", [])}
    test = {k: v for k, v in metrics.items() if k.startswith("test/")}
    check("test/all/HR_10" in test and "test/all/NDCG_10" in test,
          f"MLflow run {info['run_id']} lacks test/all/HR_10 or NDCG_10: {sorted(metrics)}")
    arts = http("GET", f"{MLFLOW}/api/2.0/mlflow/artifacts/list?"
                       + urllib.parse.urlencode({"run_id": info["run_id"], "path": "plots"}))
    paths = [f["path"] for f in arts.get("files", [])]
    check("plots/training_curves.png" in paths,
          f"MLflow run {info['run_id']}: no plots/training_curves.png among {paths}")
    model = http("GET", f"{MLFLOW}/api/2.0/mlflow/registered-models/get?"
                        + urllib.parse.urlencode({"name": MODEL}))["registered_model"]
    versions = sorted(int(v["version"]) for v in model.get("latest_versions", []))
    check(bool(versions), f"registered model {MODEL} has no version")
    return {"run_id": info["run_id"], "experiment_id": info["experiment_id"],
            "test_metrics": {k: round(v, 4) for k, v in sorted(test.items())},
            "model": MODEL, "model_versions": versions}


def serve_model(version: int) -> dict[str, Any]:
    """`mlflow models serve` in a one-off container of the stack, then one request."""
    name = "sracl-e2e-serve"
    sh(["docker", "rm", "-f", name], ok=False)
    compose("run", "-d", "--no-deps", "--name", name, "-p", f"127.0.0.1:{SERVE_PORT}:5001",
            "worker-cpu", "mlflow", "models", "serve", "-m", f"models:/{MODEL}/{version}",
            "--env-manager", "local", "--host", "0.0.0.0", "--port", "5001")
    try:
        wait_for("the model server", lambda: urllib.request.urlopen(
            f"http://127.0.0.1:{SERVE_PORT}/ping", timeout=5).status == 200, 300)
        body = {"dataframe_records": [{"sequence": [1, 2, 3]}], "params": {"top_k": 5}}
        answer = http("POST", f"http://127.0.0.1:{SERVE_PORT}/invocations", body, timeout=60)
    finally:
        logs = sh(["docker", "logs", "--tail", "30", name], ok=False).stdout
        sh(["docker", "rm", "-f", name], ok=False)
    preds = answer.get("predictions") if isinstance(answer, dict) else None
    check(isinstance(preds, list) and len(preds) == 1,
          f"model server answered {answer!r}\n{logs}")
    text = json.dumps(preds[0])
    log(f"model server answered: {text[:300]}")
    return {"request": body, "prediction": preds[0]}


def browser_checks(flow_run_id: str, ml: dict[str, Any], require: bool) -> dict[str, Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        check(not require, "chromium is not installed (apt-get install chromium)")
        log("chromium not installed: UI checks skipped")
        return {"skipped": "chromium not installed"}
    pages = {
        "prefect_flow_run": (f"http://127.0.0.1:4200/runs/flow-run/{flow_run_id}",
                             ["Completed", "sracl-pipeline"]),
        "prefect_deployments": ("http://127.0.0.1:4200/deployments", ["nightly", "nightly-gpu"]),
        "mlflow_run": (f"{MLFLOW}/#/experiments/{ml['experiment_id']}/runs/{ml['run_id']}",
                       ["beauty-sample", "test/all/HR_10"]),
        "mlflow_model": (f"{MLFLOW}/#/models/{MODEL}", [MODEL, "Version 1"]),
    }
    seen: dict[str, Any] = {}
    for key, (url, needles) in pages.items():
        def dump(url: str = url, needles: list[str] = needles) -> int | None:
            dom = sh([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-dev-shm-usage", "--virtual-time-budget=20000",
                      "--dump-dom", url], timeout=120, ok=False).stdout or ""
            return len(dom) if all(n in dom for n in needles) else None
        size = wait_for(f"{needles} on {url} in headless Chromium", dump, 180, every=3)
        seen[key] = {"url": url, "found": needles, "dom_chars": size}
        log(f"UI {key}: {needles} found on {url}")
    return seen


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
