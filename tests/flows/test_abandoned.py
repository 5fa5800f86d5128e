"""kill -9 leaves an MLflow run RUNNING, a Prefect flow run RUNNING and a server alive;
the next `sracl run` on the same cache closes the first two and stops the third."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from tests.flows.sracl_process import (
    ENDLESS,
    SHORT,
    finish,
    flow_run_state,
    kill_all,
    mlflow_runs,
    run_tag,
    running,
    servers_of,
    start_run,
    wait_until_training,
)

pytestmark = pytest.mark.slow


def test_after_kill_9_the_next_run_closes_the_dead_runs_and_stops_their_server(tmp_path: Path):
    cache = tmp_path / "cache"
    killed = start_run(cache, ENDLESS, tmp_path / "killed.out")
    servers: list[psutil.Process] = []
    try:
        run_id = wait_until_training(cache, killed)
        servers = servers_of(killed)
        killed.kill()
        killed.wait()
        assert running(servers), "nothing can stop a server when its command is killed"
        _, flow_run_id = mlflow_runs(cache)[run_id]
        assert flow_run_state(cache, flow_run_id) == "RUNNING"

        following = start_run(cache, SHORT, tmp_path / "next.out")
        assert finish(following) == 0, (tmp_path / "next.out").read_text()
        runs = mlflow_runs(cache)
        assert runs[run_id][0] == "FAILED"
        assert f"process {killed.pid} on" in (run_tag(cache, run_id, "sracl.abandoned") or "")
        assert flow_run_state(cache, flow_run_id) == "CRASHED"
        assert running(servers) == [], "the next run stopped the dead command's server"
        assert sorted(status for status, _ in runs.values()) == ["FAILED", "FINISHED"]
    finally:
        killed.kill()
        kill_all(servers)
