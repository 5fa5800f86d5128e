"""The shared pipeline run as a person sees it: through ``mlflow server`` on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.network_loopback]


@pytest.fixture(scope="module")
def mlflow_ui(first_run: dict[str, Any], tmp_path_factory: pytest.TempPathFactory,
              serve) -> Iterator[str]:
    """The UI command the run summary prints, on a free port; stopped afterwards."""
    command = first_run["tracking"]["ui_command"].split()
    assert command[:3] == ["mlflow", "server", "--backend-store-uri"]
    log = tmp_path_factory.mktemp("mlflow-ui") / "server.log"
    with serve(lambda port: [sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
                             command[3], "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1"], "/health", log) as base:
        yield base


def get(base: str, route: str, **params: Any) -> Any:
    response = httpx.get(f"{base}{route}", params=params, timeout=30)
    assert response.status_code == 200, (route, response.text[:500])
    return response


def test_the_ui_serves_the_run_its_stages_artifacts_and_model(mlflow_ui: str,
                                                              first_run: dict[str, Any]):
    tracking = first_run["tracking"]
    assert "<html" in get(mlflow_ui, "/").text.lower()
    run = get(mlflow_ui, "/api/2.0/mlflow/runs/get", run_id=tracking["run_id"]).json()["run"]
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert params["dataset"] == "beauty-sample"
    assert tags["prefect.flow_run_id"] == first_run["flow_run_id"]
    assert metrics["test/all/NDCG_10"] == pytest.approx(tracking["test_metrics"]["all/NDCG@10"])
    listing = get(mlflow_ui, "/api/2.0/mlflow/artifacts/list", run_id=tracking["run_id"],
                  path="plots").json()
    assert [f["path"] for f in listing["files"]] == ["plots/training_curves.png"]
    png = get(mlflow_ui, "/get-artifact", path="plots/training_curves.png",
              run_uuid=tracking["run_id"]).content
    assert png.startswith(b"\x89PNG")
    model = get(mlflow_ui, "/api/2.0/mlflow/registered-models/get",
                name="sracl-beauty-sample").json()["registered_model"]
    assert model["name"] == "sracl-beauty-sample"


def test_each_stage_run_is_nested_under_the_pipeline_run(mlflow_ui: str,
                                                         first_run: dict[str, Any]):
    tracking = first_run["tracking"]
    found = httpx.post(f"{mlflow_ui}/api/2.0/mlflow/runs/search", timeout=30, json={
        "experiment_ids": [tracking["experiment_id"]],
        "filter": f"tags.mlflow.parentRunId = '{tracking['run_id']}'"}).json()["runs"]
    by_stage = {r["info"]["run_name"]: {t["key"]: t["value"] for t in r["data"]["tags"]}
                for r in found}
    assert set(by_stage) == {row["stage"] for row in first_run["stages"]}
    for row in first_run["stages"]:
        assert by_stage[row["stage"]]["sracl.fingerprint"] == row["fingerprint"]
        assert by_stage[row["stage"]]["sracl.state"] == "computed"


def test_semantic_stage_runs_hold_profiles_and_neighbour_examples(harness: Any, mlflow_ui: str,
                                                                  first_run: dict[str, Any]):
    tracking = first_run["tracking"]
    found = httpx.post(f"{mlflow_ui}/api/2.0/mlflow/runs/search", timeout=30, json={
        "experiment_ids": [tracking["experiment_id"]],
        "filter": f"tags.mlflow.parentRunId = '{tracking['run_id']}'"}).json()["runs"]
    run_ids = {r["info"]["run_name"]: r["info"]["run_id"] for r in found}

    def files(stage: str, folder: str) -> list[str]:
        listing = get(mlflow_ui, "/api/2.0/mlflow/artifacts/list", run_id=run_ids[stage],
                      path=folder).json()
        return sorted(Path(f["path"]).name for f in listing.get("files", []))

    assert files("profiles", "samples") == ["profiles_item_profiles.json",
                                            "profiles_user_profiles.json"]
    assert files("neighbours", "examples") == ["item_neighbours.json", "user_neighbours.json"]
    examples = get(mlflow_ui, "/get-artifact", path="examples/item_neighbours.json",
                   run_uuid=run_ids["neighbours"]).json()
    assert examples["columns"] == ["item", "title", "neighbour_titles"]
    assert all(row[1] and row[2] for row in examples["data"]), "titles, not bare ids"
