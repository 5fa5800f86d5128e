"""prefect.yaml against a real Prefect server on loopback: pools, ``prefect deploy --all``,
the registered deployments and schedules, and one deployment run by a process worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.network_loopback]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory,
                   serve) -> Iterator[dict[str, Any]]:
    """``prefect server start`` on 127.0.0.1 with its own home; the CLI env to talk to it."""
    home = tmp_path_factory.mktemp("prefect-server")
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    command = lambda port: [*PREFECT, "server", "start", "--host", "127.0.0.1",  # noqa: E731
                            "--port", str(port)]
    with serve(command, "/api/health", home / "server.log", env) as base:
        api = f"{base}/api"
        yield {"api": api, "env": {**env, "PREFECT_API_URL": api}, "home": home}


def prefect_cli(server: dict[str, Any], *arguments: str) -> str:
    result = subprocess.run([*PREFECT, "--no-prompt", *arguments], cwd=PROJECT_ROOT,
                            env=server["env"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def deployed(prefect_server: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The README's steps: create both pools, deploy everything in prefect.yaml."""
    prefect_cli(prefect_server, "work-pool", "create", "sracl-cpu", "--type", "process")
    prefect_cli(prefect_server, "work-pool", "create", "sracl-gpu", "--type", "docker")
    prefect_cli(prefect_server, "deploy", "--all")
    response = httpx.post(f"{prefect_server['api']}/deployments/filter", json={}, timeout=30)
    response.raise_for_status()
    flows = httpx.post(f"{prefect_server['api']}/flows/filter", json={}, timeout=30).json()
    flow_names = {flow["id"]: flow["name"] for flow in flows}
    return {f"{flow_names[d['flow_id']]}/{d['name']}": d for d in response.json()}


def test_every_deployment_is_registered_on_its_pool(deployed: dict[str, dict[str, Any]]):
    stages = ["ingest", "prompts", "profiles", "embeddings", "neighbours", "train", "evaluate"]
    assert set(deployed) == {"sracl-pipeline/nightly", "sracl-pipeline/nightly-gpu",
                             *(f"sracl-stage/{stage}" for stage in stages)}
    assert deployed["sracl-pipeline/nightly"]["work_pool_name"] == "sracl-cpu"
    assert deployed["sracl-pipeline/nightly-gpu"]["work_pool_name"] == "sracl-gpu"
    for stage in ("profiles", "embeddings", "train", "evaluate"):
        gpu = deployed[f"sracl-stage/{stage}"]
        assert gpu["work_pool_name"] == "sracl-gpu"
        assert gpu["job_variables"]["image"] == "sracl-gpu:latest"
        assert gpu["parameters"]["stage"] == stage


def test_the_pipeline_deployments_carry_the_nightly_cron_and_config_parameters(
        deployed: dict[str, dict[str, Any]]):
    nightly = deployed["sracl-pipeline/nightly"]
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"])
            for s in nightly["schedules"]] == [("0 2 * * *", "UTC", True)]
    assert nightly["parameters"] == {"config_path": "configs/default.yaml", "overrides": []}
    assert [s["schedule"]["cron"] for s in deployed["sracl-pipeline/nightly-gpu"]["schedules"]] \
        == ["0 3 * * *"]
    assert deployed["sracl-stage/ingest"]["schedules"] == []


def test_a_process_worker_runs_a_stage_deployment(prefect_server: dict[str, Any],
                                                  deployed: dict[str, dict[str, Any]],
                                                  tmp_path: Path):
    cache = tmp_path / "cache"
    params = json.dumps({"overrides": [f"cache_root={cache}"]})
    prefect_cli(prefect_server, "deployment", "run", "sracl-stage/ingest", "--params", params)
    prefect_cli(prefect_server, "worker", "start", "--pool", "sracl-cpu", "--run-once")
    runs = httpx.post(f"{prefect_server['api']}/flow_runs/filter", json={
        "deployments": {"id": {"any_": [deployed["sracl-stage/ingest"]["id"]]}}},
        timeout=30).json()
    assert [run["state"]["type"] for run in runs] == ["COMPLETED"]
    assert list((cache / "beauty-sample" / "ingest").glob("*/manifest.json"))
