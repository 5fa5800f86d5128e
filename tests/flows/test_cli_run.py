"""`sracl run` as a user starts it: a new process, a cache root that does not exist yet."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

PLAIN = ["train.objective.use_cs=false", "train.objective.use_is=false", "train.epochs=1",
         "train.progress=false"]


def _sracl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("PREFECT_", "MLFLOW_"))}
    environment["COLUMNS"] = "200"
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=600, check=False)


def _sets(overrides: list[str]) -> list[str]:
    return [part for override in overrides for part in ("--set", override)]


@pytest.mark.slow
def test_a_fresh_cache_root_runs_and_engine_messages_go_to_the_log(tiny_config: Path,
                                                                   tmp_path: Path):
    cache = tmp_path / "not" / "there" / "yet"
    overrides = [f"cache_root={cache}", *PLAIN]
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    result = _sracl("run", "-c", str(tiny_config), *_sets(overrides), cwd=elsewhere)
    assert result.returncode == 0, result.stdout + result.stderr
    console = result.stdout + result.stderr
    logs = list((cache / "logs").glob("sracl-*.log"))
    assert len(logs) == 1 and str(logs[0]) in console.replace("\n", "")
    assert "Finished in state" not in console and "Finished in state" in logs[0].read_text()
    assert "alembic" not in console and "Creating initial MLflow database" not in console
    assert "3 stages: 0 cached, 3 computed" in console
    again = _sracl("run", "-c", str(tiny_config), *_sets(overrides), cwd=elsewhere)
    assert again.returncode == 0 and "3 stages: 3 cached, 0 computed" in again.stdout


def test_a_bad_config_fails_in_one_line_before_any_server_starts(tiny_config: Path,
                                                                 tmp_path: Path):
    cache = tmp_path / "cache"
    started = time.perf_counter()
    result = _sracl("run", "-c", str(tiny_config), "--set", f"cache_root={cache}",
                    "--set", "train.backbone=sasrek", cwd=tmp_path)
    seconds = time.perf_counter() - started
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines == ["error: " + f"{tiny_config}: train.backbone: unknown name 'sasrek'; "
                     "expected one of: gru4rec, sasrec"], (lines, seconds)
    assert not (cache / "prefect").exists(), "no Prefect server was started"
