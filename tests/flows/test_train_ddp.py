"""The torchrun entry point of the train stage, run for real with two CPU ranks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from sracl_core.config import load_config
from sracl_core.stages.graph import stage_fingerprints, store_for
from sracl_core.stages.runner import run_stage
from sracl_core.tracking.run import tracking_uri

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLAIN = ["train.objective=next_item", "train.epochs=2",
         "train.progress=false", "train.backbone.hidden_size=16", "train.backbone.inner_size=32"]


@pytest.mark.skipif(shutil.which("torchrun", path=str(Path(sys.executable).parent)) is None,
                    reason="torchrun is not installed beside this interpreter")
def test_torchrun_on_two_ranks_writes_the_train_artifact_once_and_a_rerun_finds_it(
        tmp_path: Path):
    config_path = PROJECT_ROOT / "configs" / "default.yaml"
    overrides = [*PLAIN, f"cache_root={tmp_path / 'cache'}"]
    config = load_config(config_path, overrides)
    run_stage(config, "ingest")
    torchrun = Path(sys.executable).parent / "torchrun"
    with socket.socket() as probe:  # a free loopback port for the ranks' rendezvous
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(torchrun), "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
               "--master-port", str(port),
               "-m", "flows.train_ddp", str(config_path),
               *(arg for override in overrides for arg in ("--set", override))]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                           timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr
    store, fingerprint = store_for(config), stage_fingerprints(config)["train"]
    assert store.check("train", fingerprint).state == "cached"
    epochs = store.read_table("train", fingerprint, "epochs")
    assert epochs["epoch"].to_list() == [0, 1]
    client = MlflowClient(tracking_uri(config))
    [run] = client.search_runs([client.get_experiment_by_name(config.tracking.experiment)
                                .experiment_id], "tags.`sracl.launcher` = 'torchrun'")
    assert run.info.status == "FINISHED" and run.data.tags["sracl.world_size"] == "2"
    assert run.data.tags["sracl.fingerprint.train"] == fingerprint
    history = client.get_metric_history(run.info.run_id, "valid/all/NDCG_10")  # MLflow: no @
    assert [m.step for m in history] == [0, 1], "each epoch logged live, once"
    assert [m.value for m in history] == pytest.approx(epochs["valid/all/NDCG@10"].to_list())
    again = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "train: cached" in again.stdout + again.stderr
