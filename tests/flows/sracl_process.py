"""`sracl run` as a separate process, and what it leaves in its stores, read with sqlite3.

The stores are read directly (read-only) rather than through MLflow or Prefect,
so a test sees what any later reader would, and never itself starts a server.
Output goes to a file, not a pipe: a server left behind would hold a pipe open.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLAIN = ["train.objective=next_item", "train.progress=false"]
"""The plain SASRec path of the embedded default: ingest, train, evaluate; no LLM."""
ENDLESS = [*PLAIN, "train.epochs=100000", "train.patience=100000"]
"""Training that runs until it is stopped."""
SHORT = [*PLAIN, "train.epochs=1"]
DEADLINE_SECONDS = 900
"""Only so that a broken run fails the test instead of hanging it; never a speed check."""


def start_run(cache: Path, overrides: list[str], output: Path,
              command: tuple[str, ...] = ("run",)) -> subprocess.Popen[str]:
    """``sracl run`` (or another ``command``) of the embedded default over ``cache``, in the
    checkout's folder, as the leader of its own process group (a terminal's job)."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("PREFECT_", "MLFLOW_"))}
    environment["COLUMNS"] = "200"
    sets = [part for override in [f"cache_root={cache}", *overrides]
            for part in ("--set", override)]
    with output.open("w") as sink:
        return subprocess.Popen([sys.executable, "-m", "flows.launcher", *command, *sets],
                                cwd=PROJECT_ROOT, env=environment, stdout=sink,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)


def finish(process: subprocess.Popen[str]) -> int:
    return process.wait(timeout=DEADLINE_SECONDS)


def query(database: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` on a store, opened read-only; no rows while it does not exist yet."""
    if not database.is_file():
        return []
    connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # being created by the run
    finally:
        connection.close()


def mlflow_runs(cache: Path) -> dict[str, tuple[str, str]]:
    """Pipeline runs by id: (status, flow run id)."""
    return {run_id: (status, flow_run) for run_id, status, flow_run in query(
        cache / "mlflow.db",
        "SELECT r.run_uuid, r.status, t.value FROM runs r JOIN tags k ON k.run_uuid = r.run_uuid"
        " AND k.key = 'sracl.run_kind' AND k.value = 'pipeline' LEFT JOIN tags t"
        " ON t.run_uuid = r.run_uuid AND t.key = 'prefect.flow_run_id'")}


def run_tag(cache: Path, run_id: str, key: str) -> str | None:
    rows = query(cache / "mlflow.db",
                 f"SELECT value FROM tags WHERE run_uuid = '{run_id}' AND key = '{key}'")
    return rows[0][0] if rows else None


def flow_run_state(cache: Path, flow_run_id: str) -> str | None:
    rows = query(cache / "prefect" / "prefect.db",
                 "SELECT state_type FROM flow_run WHERE replace(id, '-', '') = "
                 f"'{flow_run_id.replace('-', '')}'")
    return rows[0][0] if rows else None


def wait_until_training(cache: Path, process: subprocess.Popen[str], runs: int = 1) -> str:
    """The pipeline run's id once it (or ``runs`` of them) has logged a training epoch (the
    flow is mid-stage)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        rows = query(cache / "mlflow.db",
                     "SELECT DISTINCT m.run_uuid FROM metrics m JOIN runs r ON r.run_uuid ="
                     " m.run_uuid WHERE m.key = 'loss/total' AND r.status = 'RUNNING'")
        if len(rows) >= runs:
            return rows[0][0]
        time.sleep(0.5)
    raise AssertionError(f"no training epoch logged; the run exited with {process.poll()}")


def servers_of(process: subprocess.Popen[str]) -> list[psutil.Process]:
    """The temporary Prefect servers the command started (its uvicorn children; a killed
    one not yet reaped, a zombie, is not one)."""
    servers = []
    for child in psutil.Process(process.pid).children(recursive=True):
        try:
            if "prefect.server.api.server:create_app" in " ".join(child.cmdline()):
                servers.append(child)
        except psutil.Error:
            continue
    return servers


def running(processes: list[psutil.Process]) -> list[int]:
    return [p.pid for p in processes
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def kill_all(processes: list[psutil.Process]) -> None:
    """Clean up after a failing test: what the old code left behind must not outlive it."""
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            continue
