"""MLflow tracking read back from a real SQLite store with ``MlflowClient``.

The pipeline runs without Prefect here (``sracl_core.tracking`` never needs
it), on the embedded sample with the plain backbone (no LLM stages) and two
epochs, so the store holds a full train/evaluate run in seconds.
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from sracl_core.artifacts import library_versions
from sracl_core.config import load_config
from sracl_core.stages.graph import needed_stages, stage_fingerprints
from sracl_core.stages.runner import StageOutcome, run_stage
from sracl_core.tracking.model import (
    ENTRY_FILE,
    TAG_TRAIN_FINGERPRINT,
    registered_model_name,
)
from sracl_core.tracking.run import (
    PipelineRun,
    artifact_location,
    tracking_uri,
    ui_command,
)
from tests.stage_runs import DEFAULT_CONFIG, PLAIN_TWO_EPOCHS, run_pipeline

PLAIN = PLAIN_TWO_EPOCHS


def log_pipeline(config: Any, tags: dict[str, str] | None = None) -> PipelineRun:
    """What the Prefect flow does, without Prefect: run the stages, log each, finish."""
    outcomes = run_pipeline(config, needed_stages(config))
    run = PipelineRun.start(config, run_name="test", tags=tags or {})
    run.log_config(config_path=str(DEFAULT_CONFIG), overrides=PLAIN)
    for outcome in outcomes:
        run.log_stage(dataclasses.replace(outcome, seconds=0.5))
    return run


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cache = tmp_path_factory.mktemp("tracking") / "cache"
    config = load_config(DEFAULT_CONFIG, [f"cache_root={cache}", *PLAIN])
    run = log_pipeline(config, {"prefect.flow_run_id": "flow-run-1"})
    summary = run.finish()
    uri = tracking_uri(config)
    return {"config": config, "summary": summary,
            "client": MlflowClient(tracking_uri=uri, registry_uri=uri)}


def nested_runs(client: MlflowClient, parent: Any) -> dict[str, Any]:
    runs = client.search_runs([parent.info.experiment_id],
                              f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    return {run.info.run_name: run for run in runs}


def artifact_paths(client: MlflowClient, run_id: str, folder: str | None = None) -> set[str]:
    paths: set[str] = set()
    for entry in client.list_artifacts(run_id, folder):
        paths |= artifact_paths(client, run_id, entry.path) if entry.is_dir else {entry.path}
    return paths


def test_default_store_is_sqlite_with_artifacts_beside_it(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}"])
    assert tracking_uri(config) == f"sqlite:///{tmp_path}/mlflow.db"
    assert artifact_location(config) == (tmp_path / "mlartifacts").as_uri()
    assert "--backend-store-uri sqlite:///" in ui_command(config)
    remote = load_config(DEFAULT_CONFIG, ["tracking.uri=http://mlflow:5000"])
    assert tracking_uri(remote) == "http://mlflow:5000"
    assert artifact_location(remote) is None, "a server chooses its own artifact store"


def test_tracking_config_is_not_part_of_any_fingerprint(tmp_path: Path):
    plain = load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}"])
    moved = load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}", "tracking.uri=http://x:1",
                                         "tracking.experiment=other"])
    assert stage_fingerprints(plain) == stage_fingerprints(moved)


def test_parent_run_has_config_params_dataset_stats_and_test_metrics(logged: dict[str, Any],
                                                                    tmp_path: Path):
    client, summary = logged["client"], logged["summary"]
    run = client.get_run(summary.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["train.objective.name"] == "next_item"  # the chosen variant only
    assert "train.objective.alpha" not in run.data.params
    assert run.data.params["data.k_core"] == "5"
    assert run.data.tags["prefect.flow_run_id"] == "flow-run-1"
    fingerprints = stage_fingerprints(logged["config"])
    assert run.data.tags["sracl.fingerprint.train"] == fingerprints["train"]
    assert run.data.tags["sracl.version.sracl"] == library_versions()["sracl"]
    assert run.data.tags["sracl.version.torch"] == library_versions()["torch"]
    assert run.data.metrics["dataset.n_users"] == 144
    assert run.data.metrics["dataset.n_items"] == 99
    assert set(summary.test_metrics) >= {"all/NDCG@10", "unseen/HR@20"}
    assert run.data.metrics["test/all/NDCG_10"] == pytest.approx(
        summary.test_metrics["all/NDCG@10"])
    assert {"config/resolved.yaml", "plots/training_curves.png", "tables/test_metrics.json",
            "tables/epochs.json", "tables/dataset_stats.json"} <= artifact_paths(
        client, summary.run_id)
    resolved = Path(client.download_artifacts(summary.run_id, "config/resolved.yaml", tmp_path))
    assert "dataset: beauty-sample" in resolved.read_text()


def test_per_epoch_losses_and_validation_metrics_have_one_step_per_epoch(
        logged: dict[str, Any]):
    client, summary = logged["client"], logged["summary"]
    metrics = client.get_run(summary.run_id).data.metrics
    losses = [name for name in metrics if name.startswith("loss/")]
    valid = [name for name in metrics if name.startswith("valid/")]
    assert "loss/total" in losses and "loss/rec" in losses
    assert "valid/all/NDCG_10" in valid
    for name in ("loss/total", "valid/all/NDCG_10"):
        steps = [m.step for m in client.get_metric_history(summary.run_id, name)]
        assert sorted(steps) == [1, 2] or sorted(steps) == [0, 1], (name, steps)


def test_each_stage_is_a_nested_run_with_fingerprint_state_and_outputs(logged: dict[str, Any]):
    client, summary = logged["client"], logged["summary"]
    children = nested_runs(client, client.get_run(summary.run_id))
    fingerprints = stage_fingerprints(logged["config"])
    assert set(children) == {"ingest", "train", "evaluate"}
    for stage, child in children.items():
        assert child.data.tags["sracl.fingerprint"] == fingerprints[stage]
        assert child.data.tags["sracl.state"] == "computed"
        assert child.info.status == "FINISHED"
        assert "compute_seconds" in child.data.metrics
    assert children["ingest"].data.metrics["rows.sequences"] == 144
    assert "examples/recommendations.json" in artifact_paths(
        client, children["evaluate"].info.run_id)
    assert children["train"].data.tags["sracl.model_uri"] == summary.model_uri


def test_best_model_is_registered_and_serves_top_k_lists(logged: dict[str, Any],
                                                        monkeypatch: pytest.MonkeyPatch):
    client, summary, config = logged["client"], logged["summary"], logged["config"]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri(config))
    name = registered_model_name(config)
    versions = client.search_model_versions(f"name = '{name}'")
    assert [str(v.version) for v in versions] == ["1"]
    assert versions[0].tags[TAG_TRAIN_FINGERPRINT] == stage_fingerprints(config)["train"]
    assert summary.model_uri == f"models:/{name}/1"
    model = mlflow.pyfunc.load_model(summary.model_uri)
    answer = model.predict(pd.DataFrame({"sequence": [[1, 2, 3], [5]]}), params={"top_k": 5})
    assert [len(items) for items in answer["items"]] == [5, 5]
    assert not {1, 2, 3} & set(answer["items"][0]), "seen items are left out by default"
    assert all(1 <= item <= 99 for row in answer["items"] for item in row)
    assert all(isinstance(original, str) for original in answer["original_items"][0])
    with pytest.raises(ValueError, match=r"item ids must be in 1\.\.99"):
        model.predict(pd.DataFrame({"sequence": [[0, 500]]}))


PICKLE_STARTS = tuple(bytes([0x80, protocol]) for protocol in range(2, 6))
"""How a pickle of protocol 2 to 5 begins (PROTO opcode, then the protocol)."""


def test_the_logged_model_is_code_and_data_with_no_pickle_in_it(
        logged: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A pickled model runs whatever it holds on every machine that loads or serves it."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri(logged["config"]))
    local = Path(mlflow.artifacts.download_artifacts(logged["summary"].model_uri,
                                                     dst_path=str(tmp_path)))
    files = [path for path in local.rglob("*") if path.is_file()]
    names = {path.relative_to(local).as_posix() for path in files}
    assert "python_model.pkl" not in names and not {n for n in names if n.endswith(".pkl")}
    assert (local / ENTRY_FILE.name).read_text() == ENTRY_FILE.read_text(), names
    assert "loader_module: mlflow.pyfunc.loaders.code_model" in (local / "MLmodel").read_text()
    for path in files:
        assert not path.read_bytes()[:2].startswith(PICKLE_STARTS), f"{path} is a pickle"
        if zipfile.is_zipfile(path):
            inner = zipfile.ZipFile(path).namelist()
            assert not [n for n in inner if n.endswith(".pkl")], (path, inner)


def test_a_cached_rerun_is_a_new_run_pointing_at_the_same_model(logged: dict[str, Any]):
    client, first = logged["client"], logged["summary"]
    again = log_pipeline(logged["config"]).finish()
    assert again.run_id != first.run_id
    assert again.model_uri == first.model_uri
    assert len(client.search_model_versions(
        f"name = '{registered_model_name(logged['config'])}'")) == 1
    assert again.test_metrics == first.test_metrics


def test_logging_leaves_the_process_tracking_uri_alone(logged: dict[str, Any],
                                                       tmp_path: Path):
    """MLflow mirrors its global URI into MLFLOW_TRACKING_URI; a leak would send the next
    config's runs (default store = its own cache) into the previous config's database."""
    assert "MLFLOW_TRACKING_URI" not in os.environ
    other = load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}", *PLAIN])
    assert tracking_uri(other) == f"sqlite:///{tmp_path}/mlflow.db"


def test_a_stage_without_outputs_logs_only_its_record(logged: dict[str, Any]):
    config, client = logged["config"], logged["client"]
    run = PipelineRun.start(config, run_name="partial")
    run.log_stage(StageOutcome("profiles", "0" * 16, False, "/nowhere", 1.0))
    summary = run.finish("FAILED")
    child = nested_runs(client, client.get_run(summary.run_id))["profiles"]
    assert child.info.status == "FINISHED"
    assert set(child.data.metrics) == {"seconds"}
    assert artifact_paths(client, child.info.run_id) == set()
    assert client.get_run(summary.run_id).info.status == "FAILED"
    assert summary.model_uri is None and summary.test_metrics == {}


@pytest.mark.network_loopback
def test_a_lost_server_is_lost_once_and_the_run_goes_on(tmp_path: Path, monkeypatch,
                                                        caplog: pytest.LogCaptureFixture):
    """The server goes away after the run started: the first failed call loses it (one
    warning), later calls do not try again, and ``finish`` still says what the run did."""
    import socket
    import threading

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    config = load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}", *PLAIN])
    run = PipelineRun.start(config, run_name="lost")
    outcome = run_stage(config, "ingest")
    connections = []
    with socket.socket() as gone:
        gone.bind(("127.0.0.1", 0))
        gone.listen(16)

        def hang_up() -> None:  # what a dying server does: accept, then close
            while True:
                try:
                    connection, _ = gone.accept()
                except OSError:
                    return
                connections.append(connection)
                connection.close()

        threading.Thread(target=hang_up, daemon=True).start()
        run.client = MlflowClient(f"http://127.0.0.1:{gone.getsockname()[1]}")
        assert run.log_stage(outcome) is None and run.lost is not None
        tried = len(connections)
        assert tried >= 1
        assert run.log_stage(outcome) is None
        summary = run.finish()
        assert len(connections) == tried  # nothing more was sent
    assert [record.stage for record in run.stages] == ["ingest", "ingest"]
    assert summary.run_id == run.run_id
    warnings = [r for r in caplog.records if "stopped answering" in r.getMessage()]
    assert len(warnings) == 1 and "while logging stage ingest" in warnings[0].getMessage()
