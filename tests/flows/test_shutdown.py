"""A running `sracl run` or `sracl experiment` stopped from outside by SIGTERM or SIGINT.

Each test starts the real command on the embedded default with endless training
and acts once the MLflow run has logged an epoch, so the flow is mid-stage.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import psutil
import pytest

from tests.flows.sracl_process import (
    ENDLESS,
    finish,
    flow_run_state,
    kill_all,
    mlflow_runs,
    running,
    servers_of,
    start_run,
    wait_until_training,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("stop", "to_group"), [
    (signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGINT, True)],
    ids=["SIGTERM", "SIGINT", "Ctrl-C"])
def test_a_stop_signal_closes_both_runs_and_the_server_and_exits_with_its_code(
        stop: signal.Signals, to_group: bool, tmp_path: Path):
    """Ctrl-C in a terminal sends SIGINT to the whole process group: the command, and its
    Prefect server unless that runs in a session of its own (before, the server died first
    and the command spent a minute retrying it, then failed with a ConnectError).
    The training stops after its step with a resume checkpoint (before, the signal broke
    the step off and the run resumed from its last periodic checkpoint)."""
    cache, output = tmp_path / "cache", tmp_path / "run.out"
    process = start_run(cache, [*ENDLESS, "train.checkpoint_every_steps=1000000",
                                "train.batch_size=16"], output)
    servers: list[psutil.Process] = []
    try:
        run_id = wait_until_training(cache, process)
        servers = servers_of(process)
        assert servers, "the command runs a temporary Prefect server"
        if to_group:
            os.killpg(process.pid, stop)
        else:
            process.send_signal(stop)
        code = finish(process)
        console = output.read_text()
        assert code == 128 + stop, console
        assert "Traceback" not in console and "Error logging to API" not in console
        stops = [line for line in console.splitlines() if line.startswith("stopped by")]
        assert len(stops) == 1 and stops[0].startswith(f"stopped by {stop.name}:"), console
        status, flow_run_id = mlflow_runs(cache)[run_id]
        assert status == "KILLED"
        assert flow_run_state(cache, flow_run_id) == "CRASHED"
        steps = _stop_checkpoints(cache)
        assert len(steps) == 1 and steps[0] >= 1, (
            f"the run must leave a resume checkpoint at the step it stopped at; steps within "
            f"the epoch: {steps}")
        assert running(servers) == [], "the server stops with the command"
    finally:
        process.kill()
        kill_all(servers)


def _two_run_grid(tmp_path: Path) -> Path:
    grid = tmp_path / "grid.yaml"
    grid.write_text("name: stop-test\nbaseline: a\nseeds: [1]\n"
                    "variants:\n  a: []\n  b: [train.lr=0.002]\n")
    return grid


def _stop_checkpoints(cache: Path) -> list[int]:
    """The step within its epoch of each resume checkpoint. With periodic checkpoints off,
    only a stop writes one mid-epoch (its step is at least 1); an epoch's end writes step 0."""
    return sorted(json.loads(path.read_text())["step"] for path in
                  (cache / "beauty-sample" / "train" / ".checkpoints").glob(
                      "*/run-*/last/progress.json"))


@pytest.mark.parametrize("to_group", [False, True], ids=["command", "process-group"])
def test_a_stop_signal_ends_an_experiment_whose_runs_train_in_worker_processes(
        to_group: bool, tmp_path: Path):
    """SIGTERM to the command alone, or to its whole process group (``kill -- -PGID``,
    ``timeout``, a service manager): the two training processes stop at their next step
    with a resume checkpoint, not when their (endless) runs end, and not from inside a step
    (Prefect's own SIGTERM handler in a worker did that, and lost the steps since the
    last periodic checkpoint)."""
    cache, output, grid = tmp_path / "cache", tmp_path / "experiment.out", _two_run_grid(tmp_path)
    process = start_run(cache, [*ENDLESS, "train.checkpoint_every_steps=1000000",
                                "train.batch_size=16"], output,
                        command=("experiment", "--grid", str(grid), "--jobs", "2",
                                 "--threads", "1"))
    servers: list[psutil.Process] = []
    try:
        wait_until_training(cache, process, runs=2)
        servers = servers_of(process)
        if to_group:
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.send_signal(signal.SIGTERM)
        code = finish(process)
        console = output.read_text()
        assert code == 128 + signal.SIGTERM, console
        statuses = [status for status, _ in mlflow_runs(cache).values()]
        assert "RUNNING" not in statuses, statuses
        steps = _stop_checkpoints(cache)
        assert len(steps) == 2 and min(steps) >= 1, (
            f"each training process must leave a resume checkpoint at the step it stopped "
            f"at; steps within the epoch: {steps}")
        assert running(servers) == []
    finally:
        process.kill()
        kill_all(servers)


def test_training_processes_stop_when_their_experiment_is_killed(tmp_path: Path):
    """``kill -9`` of the command: its workers notice their parent is gone, write their resume
    checkpoints and end, instead of training on unseen (and racing the next start)."""
    cache, output, grid = tmp_path / "cache", tmp_path / "experiment.out", _two_run_grid(tmp_path)
    process = start_run(cache, ENDLESS, output,
                        command=("experiment", "--grid", str(grid), "--jobs", "2",
                                 "--threads", "1"))
    servers: list[psutil.Process] = []
    workers: list[psutil.Process] = []
    try:
        wait_until_training(cache, process, runs=2)
        servers = servers_of(process)
        workers = [child for child in psutil.Process(process.pid).children()
                   if child not in servers and "spawn" in " ".join(child.cmdline())]
        assert len(workers) == 2, [child.cmdline() for child in workers]
        process.kill()
        process.wait()
        _, alive = psutil.wait_procs(workers, timeout=60)
        assert alive == [], "the workers outlived their command"
        resume_states = list((cache / "beauty-sample" / "train" / ".checkpoints").glob(
            "*/run-*/last"))
        assert len(resume_states) == 2, "each worker left its resume checkpoint"
    finally:
        process.kill()
        kill_all(workers + servers)
