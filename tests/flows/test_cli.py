"""`sracl run` as a user starts it: a new process, a cache root that does not exist yet."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sracl_core.allocator import chosen_allocator
from tests.flows.sracl_process import mlflow_runs, run_tag

PLAIN = ["train.objective=next_item", "train.epochs=1",
         "train.progress=false"]


def _sracl(*args: str, cwd: Path, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("PREFECT_", "MLFLOW_"))}
    environment["COLUMNS"] = "200"
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "flows.launcher", *args], cwd=cwd, env=environment,
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
    # the command re-executed itself on tcmalloc or jemalloc, and the run says which
    (run_id,) = mlflow_runs(cache)
    allocator = chosen_allocator(os.environ)  # SRACL_MALLOC as this test's process has it
    assert run_tag(cache, run_id, "sracl.malloc") == (allocator.name if allocator else "glibc")
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
    assert lines == [f"error: {tiny_config}: invalid config",
                     "  train.backbone: unknown name 'sasrek'; expected one of: gru4rec, sasrec"
                     " (from --set train.backbone=sasrek)"], (lines, seconds)
    assert not (cache / "prefect").exists(), "no Prefect server was started"


def test_an_unexpected_failure_is_one_line_and_its_traceback_is_in_the_log(
        tiny_config: Path, tmp_path: Path, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app
    from sracl_core.stages.graph import STAGES

    def explode(context) -> None:
        raise ZeroDivisionError("the ingest code broke")

    monkeypatch.setitem(STAGES, "ingest", dataclasses.replace(STAGES["ingest"], run=explode))
    cache = tmp_path / "cache"
    result = CliRunner().invoke(app, ["run", "-c", str(tiny_config), *_sets(
        [f"cache_root={cache}", *PLAIN])], terminal_width=200)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: ZeroDivisionError: the ingest code broke (the traceback is in "
                      "the log)"]
    assert "Traceback" not in result.output
    log = next((cache / "logs").glob("sracl-*.log")).read_text()
    assert "Traceback (most recent call last)" in log and "in explode" in log
    from sracl_core.config import load_config
    from sracl_core.stages.graph import plan

    config = load_config(tiny_config, [f"cache_root={cache}", *PLAIN])
    assert not any(entry.complete for entry in plan(config)), "no artifact for a failed stage"


def test_a_bad_input_file_fails_before_the_orchestrator_starts(tiny_config: Path,
                                                                tmp_path: Path):
    items = tmp_path / "items.tsv"
    items.write_text("item_id\ttitle\n")
    cache = tmp_path / "cache"
    result = _sracl("run", "-c", str(tiny_config), *_sets(
        [f"cache_root={cache}", f"data.source.items={items}", *PLAIN]), cwd=tmp_path)
    assert result.returncode == 1
    assert f"error: {items}: expected at least one row below the header line" in result.stdout
    assert not (cache / "prefect").exists(), "no Prefect server was started"


def test_a_gpu_this_machine_lacks_fails_before_any_stage_computes(tiny_config: Path,
                                                                   tmp_path: Path):
    """Found by the train stage, it failed the run after its profiles had been made."""
    cache = tmp_path / "cache"
    result = _sracl("run", "-c", str(tiny_config), *_sets(
        [f"cache_root={cache}", "train.device=cuda:1000", *PLAIN]), cwd=tmp_path)
    assert result.returncode == 1
    assert (f"error: {tiny_config}: train.device: expected a device this machine has, got "
            "'cuda:1000': torch ") in result.stdout
    assert not (cache / "tiny").exists(), "no stage computed"
    result = _sracl("run", "-c", str(tiny_config), *_sets(
        [f"cache_root={cache}", "train.device=gpu", *PLAIN]), cwd=tmp_path)
    assert result.returncode == 1
    assert "train.device: expected auto, cpu, cuda or cuda:N, got 'gpu'" in result.stdout


@pytest.mark.network_loopback
def test_an_unreachable_prefect_server_is_named_with_what_to_do(tiny_config: Path,
                                                                tmp_path: Path):
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        api = f"http://127.0.0.1:{closed.getsockname()[1]}/api"
    result = _sracl("run", "-c", str(tiny_config), "--until", "ingest",
                    *_sets([f"cache_root={tmp_path / 'cache'}", *PLAIN]), cwd=tmp_path,
                    env={"PREFECT_API_URL": api})
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"Failed to reach API at {api}/" in result.stdout
    assert f"PREFECT_API_URL is {api}: start that Prefect server, or unset the variable and " \
           "sracl runs a temporary one of its own" in result.stdout


def test_an_unknown_experiment_runner_is_refused_before_anything_starts(
        tiny_config: Path, tmp_path: Path):
    from typer.testing import CliRunner

    from flows.cli import app

    grid = tmp_path / "grid.yaml"
    grid.write_text("name: g\nbaseline: a\nseeds: [1]\nvariants:\n  a: []\n")
    cache = tmp_path / "cache"
    result = CliRunner().invoke(app, ["experiment", "--grid", str(grid), "-c", str(tiny_config),
                                      "--runner", "dask", "--set", f"cache_root={cache}"],
                                terminal_width=200)
    assert result.exit_code != 0
    assert "--runner must be one of local, ray, got 'dask'" in result.output
    assert not (cache / "prefect").exists(), "no Prefect server was started"


@pytest.mark.parametrize("command", ["run", "status"])
def test_a_file_where_the_cache_root_should_be_is_one_line(tiny_config: Path, tmp_path: Path,
                                                            command: str):
    """Before, ``run`` printed a 43-line traceback from opening its log file, and ``status``
    said "nothing cached yet" with exit code 0."""
    a_file = tmp_path / "cache"
    a_file.write_text("kept")
    result = _sracl(command, "-c", str(tiny_config), "--set", f"cache_root={a_file}",
                    cwd=tmp_path)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert lines == [f"error: cache_root: expected a folder (or a path where one can be made) "
                     f"for {a_file}, but it is a file; set cache_root to a folder"], lines
    assert a_file.read_text() == "kept"
