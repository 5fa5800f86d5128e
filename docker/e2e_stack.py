"""Probes of the compose stack for docker/e2e.py: services, deployments, flow runs, the
MLflow server, model serving and the UI pages."""

from __future__ import annotations

import argparse
import json
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from e2e_support import (
    COMPOSE,
    MLFLOW,
    MODEL,
    PREFECT,
    SERVE_PORT,
    TERMINAL,
    UUID,
    Failed,
    Pause,
    check,
    http,
    log,
    sh,
    wait_for,
)

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
