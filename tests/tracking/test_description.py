"""What MLflow 3's UI shows of a pipeline run, read back from a real (SQLite) store.

The experiment must be a model-training experiment (not GenAI), the pipeline run
must list its model as a logged model (also on a cached re-run, which logs no new
model), and its description must summarise the data, the stages and the test
metrics. The plain backbone trains two epochs, so the store fills in seconds.
The last test opens the same store through ``mlflow server`` on 127.0.0.1 in a
headless Chromium (skipped where Chromium is not installed).
"""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from sracl_core.config import load_config
from sracl_core.stages.graph import needed_stages
from sracl_core.tracking.description import MLFLOW_RUN_NOTE, describe_run
from sracl_core.tracking.model import link_model
from sracl_core.tracking.run import (
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    PipelineRun,
    RunSummary,
    ensure_experiment,
    tracking_uri,
)
from tests.servers import mlflow_ui
from tests.stage_runs import DEFAULT_CONFIG, PLAIN_TWO_EPOCHS, run_pipeline

PLAIN = PLAIN_TWO_EPOCHS


def run_and_log(config: Any, seconds: float = 0.5) -> RunSummary:
    """What the Prefect flow does, without Prefect: run the stages, log each, finish."""
    outcomes = run_pipeline(config, needed_stages(config))
    run = PipelineRun.start(config, run_name="run-page")
    for outcome in outcomes:
        run.log_stage(dataclasses.replace(outcome, seconds=seconds))
    return run.finish()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A first run (computes and logs the model) and a cached re-run (logs none)."""
    cache = tmp_path_factory.mktemp("run-page") / "cache"
    config = load_config(DEFAULT_CONFIG, [f"cache_root={cache}", *PLAIN])
    first = run_and_log(config)
    again = run_and_log(config, seconds=0.3)
    uri = tracking_uri(config)
    return {"config": config, "first": first, "again": again,
            "client": MlflowClient(tracking_uri=uri, registry_uri=uri)}


def model_outputs(client: MlflowClient, run_id: str) -> list[str]:
    outputs = client.get_run(run_id).outputs
    return [output.model_id for output in (outputs.model_outputs if outputs else [])]


def train_run_id(client: MlflowClient, summary: RunSummary) -> str:
    [train] = client.search_runs(
        [summary.experiment_id],
        f"tags.mlflow.parentRunId = '{summary.run_id}' and tags.`sracl.stage` = 'train'")
    return train.info.run_id


def test_the_experiment_is_a_model_training_experiment(store: dict[str, Any]):
    client, first = store["client"], store["first"]
    experiment = client.get_experiment(first.experiment_id)
    assert experiment.tags[EXPERIMENT_KIND_TAG] == "custom_model_development" == EXPERIMENT_KIND
    assert first.run_url.endswith(f"/runs/{first.run_id}?workflowType=machine_learning")


def test_an_existing_experiment_gets_a_kind_but_keeps_one_a_person_chose(tmp_path: Path):
    config = load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}"])
    client = MlflowClient(tracking_uri(config))
    unmarked = client.create_experiment(config.tracking.experiment)
    assert EXPERIMENT_KIND_TAG not in client.get_experiment(unmarked).tags
    assert ensure_experiment(client, config) == unmarked
    assert client.get_experiment(unmarked).tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND
    client.set_experiment_tag(unmarked, EXPERIMENT_KIND_TAG, "genai_development")
    ensure_experiment(client, config)
    assert client.get_experiment(unmarked).tags[EXPERIMENT_KIND_TAG] == "genai_development"


def test_the_pipeline_run_lists_the_registered_model_as_a_logged_model(store: dict[str, Any]):
    client, first, config = store["client"], store["first"], store["config"]
    assert first.model_id is not None and first.model_uri is not None
    model = client.get_logged_model(first.model_id)
    train_id = train_run_id(client, first)
    assert model.source_run_id == train_id, "logged from the train stage's run"
    assert model_outputs(client, first.run_id) == [first.model_id]
    assert model_outputs(client, train_id) == [first.model_id]
    assert model.params["train.epochs"] == "2" and model.model_type == "sequential-recommender"
    [version] = client.search_model_versions(f"name = 'sracl-{config.dataset}'")
    assert version.source == f"models:/{first.model_id}", "the version is that logged model"
    found = client.search_logged_models([first.experiment_id])
    assert [m.model_id for m in found] == [first.model_id]


def test_a_cached_rerun_lists_the_same_model_once_and_logs_no_new_one(store: dict[str, Any]):
    client, first, again = store["client"], store["first"], store["again"]
    assert again.run_id != first.run_id and again.model_id == first.model_id
    assert model_outputs(client, again.run_id) == [first.model_id]
    assert model_outputs(client, train_run_id(client, again)) == [first.model_id]
    assert len(client.search_logged_models([first.experiment_id])) == 1


def test_linking_is_idempotent_and_a_store_that_refuses_only_costs_the_listing(
        store: dict[str, Any], caplog: pytest.LogCaptureFixture):
    client, first = store["client"], store["first"]
    run = PipelineRun.start(store["config"], run_name="link")
    assert link_model(client, run.run_id, first.model_id)
    assert link_model(client, run.run_id, first.model_id)
    assert model_outputs(client, run.run_id) == [first.model_id]
    run.finish()
    assert not link_model(client, "no-such-run", first.model_id)
    assert "could not list model" in caplog.text


def test_the_run_description_summarises_data_stages_and_test_metrics(store: dict[str, Any]):
    client, first = store["client"], store["first"]
    note = client.get_run(first.run_id).data.tags[MLFLOW_RUN_NOTE]
    ingest = next(s for s in first.stages if s["stage"] == "ingest")
    assert "**Dataset** `beauty-sample`: 144 users, 99 items," in note
    assert " interactions." in note and ingest["state"] == "computed"
    assert "**Stages**: 3 computed, 0 cached, 1.5 s in all." in note
    for stage in ("ingest", "train", "evaluate"):
        assert f"| {stage} | computed | 0.5 |" in note
    assert "| metric | all | unseen |" in note
    ndcg = first.test_metrics["all/NDCG@10"]
    unseen = first.test_metrics["unseen/NDCG@10"]
    assert f"| NDCG@10 | {ndcg:.4f} | {unseen:.4f} |" in note
    assert note.splitlines()[2] == (
        f"**Test**: NDCG@10 {ndcg:.4f} (all), {unseen:.4f} (unseen); HR@10 "
        f"{first.test_metrics['all/HR@10']:.4f} (all), "
        f"{first.test_metrics['unseen/HR@10']:.4f} (unseen)."), "before the UI's 'Show more'"
    assert f"**Model**: `{first.model_uri}`" in note
    again = client.get_run(store["again"].run_id).data.tags[MLFLOW_RUN_NOTE]
    assert "**Stages**: 0 computed, 3 cached, 0.9 s in all." in again
    assert "| train | cached | 0.3 |" in again


def test_a_failed_run_says_so_and_what_it_lacks():
    note = describe_run("tiny", {}, [], {}, status="FAILED")
    assert note.startswith("**Dataset** `tiny`: not ingested.")
    assert "**Status: FAILED**" in note
    assert "**Test metrics**: none" in note
    assert "Stages" not in note and "Model" not in note and "**Test**:" not in note


def test_metrics_are_ordered_by_name_then_cut_off():
    note = describe_run("d", {"n_users": 1234}, [], {"all/HR@20": 0.3, "all/HR@5": 0.1,
                                                     "all/HR@10": 0.2, "MRR": 0.05})
    rows = [line.split(" | ")[0] for line in note.splitlines() if line.startswith("| ")]
    assert rows == ["| metric", "| HR@5", "| HR@10", "| HR@20", "| MRR"]
    assert "1,234 users." in note


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def page_text(url: str) -> str:
    """The page's visible text (one line per element) once its JavaScript has rendered."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--window-size=1400,2600",
             "--virtual-time-budget=10000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=True).stdout
    dom = re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S)
    lines = html.unescape(re.sub(r"<[^>]+>", "\n", dom)).splitlines()
    return "\n".join(line.strip() for line in lines if line.strip())


@pytest.mark.network_loopback
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_a_browser_sees_the_training_view_the_logged_model_and_the_description(
        store: dict[str, Any], tmp_path: Path):
    first, config = store["first"], store["config"]
    with mlflow_ui(tracking_uri(config), tmp_path / "server.log") as base:
        experiment = f"{base}/#/experiments/{first.experiment_id}"
        runs = page_text(f"{experiment}?workflowType=machine_learning")
        models = page_text(f"{experiment}/models?workflowType=machine_learning")
        run = page_text(first.run_url.replace("http://127.0.0.1:5000", base))
    for text in (runs, models, run):
        assert "Model registry" in text and "Evaluation runs" not in text, text[:1500]
    assert runs.startswith("Runs - Experiment") and "run-page" in runs, runs[:1500]
    assert "recommender\nReady" in models and "sracl-beauty-sample" in models, models[:1500]
    assert "Logged models (1)\n" in run and "\nOutput\n0\n" in run, run
    assert "\nrecommender\nReady\n" in run
    assert ": 144 users, 99 items," in run and "Show more" in run
    assert f"NDCG@10 {first.test_metrics['all/NDCG@10']:.4f} (all)" in run
