"""Pipelines logged from several threads at once (what ``sracl experiment --jobs`` does).

MLflow logs a pyfunc only through process-wide state (the global tracking URI and
``MLFLOW_TRACKING_URI``); two threads each saving and restoring it used to leave
one store's URI set for the whole process, so every later default config wrote
into another run's store.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from mlflow import MlflowClient

from sracl_core.config import load_config
from sracl_core.stages.graph import needed_stages
from sracl_core.tracking.model import registered_model_name
from sracl_core.tracking.run import PipelineRun, tracking_uri
from tests.stage_runs import DEFAULT_CONFIG, run_pipeline

PLAIN = ["train.objective=next_item", "train.epochs=1",
         "train.progress=false"]


def test_concurrent_pipelines_each_register_in_their_own_store_and_leave_the_env_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    configs = [load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path / name}", *PLAIN,
                                            f"train.seed={seed}"])
               for name, seed in (("a", 1), ("b", 2))]
    outcomes = [run_pipeline(config, needed_stages(config)) for config in configs]
    start_together = threading.Barrier(len(configs))

    def log(index: int) -> str:
        run = PipelineRun.start(configs[index], run_name=f"thread-{index}", tags={})
        start_together.wait()
        for outcome in outcomes[index]:
            run.log_stage(dataclasses.replace(outcome, seconds=0.1))
        return run.finish().model_uri

    with ThreadPoolExecutor(max_workers=len(configs)) as pool:
        model_uris = list(pool.map(log, range(len(configs))))

    assert "MLFLOW_TRACKING_URI" not in os.environ
    for config, model_uri in zip(configs, model_uris, strict=True):
        uri = tracking_uri(config)
        assert uri.startswith(f"sqlite:///{config.cache_root}")
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        versions = client.search_model_versions(f"name = '{registered_model_name(config)}'")
        assert [v.version for v in versions] == [1]
        assert model_uri == f"models:/{registered_model_name(config)}/1"
