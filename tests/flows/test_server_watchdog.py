"""The command's temporary Prefect server killed under a running `sracl run`."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from tests.flows.sracl_process import (
    ENDLESS,
    finish,
    flow_run_state,
    kill_all,
    mlflow_runs,
    servers_of,
    start_run,
    wait_until_training,
)

pytestmark = pytest.mark.slow
RESTART_SECONDS = 120
"""Only so that a server never started again fails the test soon; never a speed check."""


def test_a_killed_server_is_started_again_and_the_run_ends_cleanly(tmp_path: Path):
    """Before, the flow kept retrying the dead port: Prefect's errors scrolled over the
    console, and a stop then hung while the run's end was reported to nobody."""
    cache, output = tmp_path / "cache", tmp_path / "run.out"
    process = start_run(cache, ENDLESS, output)
    servers: list[psutil.Process] = []
    try:
        run_id = wait_until_training(cache, process)
        (killed,) = servers_of(process)
        servers.append(killed)
        killed.kill()
        deadline = time.monotonic() + RESTART_SECONDS
        while not [s for s in servers_of(process) if s.pid != killed.pid]:
            assert time.monotonic() < deadline and process.poll() is None, output.read_text()
            time.sleep(0.5)
        servers += servers_of(process)
        time.sleep(5)  # the flow's clients find the new server
        os.killpg(process.pid, signal.SIGTERM)
        assert finish(process) == 128 + signal.SIGTERM, output.read_text()
        text = output.read_text()
        assert f"prefect: the temporary server (pid {killed.pid}) ended with code -9; " \
               "starting it again on port" in text
        assert "ERROR" not in text, text
        (status, flow_run), = mlflow_runs(cache).values()
        assert status == "KILLED" and mlflow_runs(cache) == {run_id: (status, flow_run)}
        assert flow_run_state(cache, flow_run) not in (None, "RUNNING"), \
            "the new server recorded how the flow run ended"
    finally:
        process.kill()
        kill_all(servers)
