"""Epochs logged to MLflow while training runs (``sracl_core.tracking.live``).

Each epoch's metrics reach the pipeline run from a background thread, exactly once,
and a failing or silent server never holds or stops training.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sracl_core.config import load_config
from sracl_core.rec.trainer import EpochReport
from sracl_core.stages.graph import stage_fingerprints, store_for
from sracl_core.stages.runner import run_stage
from sracl_core.tracking.live import LiveEpochs
from sracl_core.tracking.run import PipelineRun
from tests.stage_runs import DEFAULT_CONFIG, PLAIN_TWO_EPOCHS
from tests.tracking.test_run import nested_runs

PLAIN = PLAIN_TWO_EPOCHS


def test_epochs_reach_the_pipeline_run_live_and_exactly_once(tmp_path: Path):
    """Epoch 1 is logged while training runs; epoch 0 stands for one a killed earlier run
    logged elsewhere, so it must come from the epoch table when the stage is logged."""
    config = load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}", *PLAIN])
    run = PipelineRun.start(config, run_name="live")
    live = LiveEpochs(config, run.run_id)
    seen_during_training: list[list[int]] = []

    def on_epoch(report: EpochReport) -> None:
        if report.epoch > 0:
            live(report)
            live_steps(run, expected=[1])  # sent from live's thread while training waits here
        history = run.client.get_metric_history(run.run_id, "valid/all/NDCG_10")
        seen_during_training.append(sorted(m.step for m in history))

    outcomes = [run_stage(config, "ingest"), run_stage(config, "train", on_epoch=on_epoch)]
    logged = live.close()
    assert logged == (1,) and seen_during_training == [[], [1]]
    for outcome in outcomes:
        run.log_stage(dataclasses.replace(outcome, seconds=0.5, live_epochs=logged))
    summary = run.finish()
    client = run.client
    for name in ("valid/all/NDCG_10", "loss/total", "train_seconds"):
        parent_steps = sorted(m.step for m in client.get_metric_history(summary.run_id, name))
        assert parent_steps == [0, 1], name
    train_run = nested_runs(client, client.get_run(summary.run_id))["train"]
    assert sorted(m.step for m in client.get_metric_history(
        train_run.info.run_id, "valid/all/NDCG_10")) == [0, 1]


def test_live_epoch_logging_failure_does_not_stop_training(tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture):
    config = load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}", *PLAIN])
    live = LiveEpochs(config, "no-such-run")
    run_stage(config, "ingest")
    run_stage(config, "train", on_epoch=live)
    assert live.close() == () and live.failed
    assert "live epoch logging stopped at epoch 0" in caplog.text
    assert store_for(config).is_complete("train", stage_fingerprints(config)["train"])


def live_steps(run: PipelineRun, expected: list[int], wait_s: float = 60.0) -> None:
    """Wait until the parent run's NDCG history has ``expected`` steps (a deadline, no guess)."""
    import time

    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        steps = sorted(m.step for m in run.client.get_metric_history(run.run_id,
                                                                      "valid/all/NDCG_10"))
        if steps == expected:
            return
        time.sleep(0.05)
    raise AssertionError(f"live epochs {expected} never reached the run")


@pytest.mark.network_loopback
def test_a_server_that_never_answers_does_not_hold_training(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture):
    """Before, each epoch's call waited for MLflow's retries (minutes) inside the training
    loop. Now the stage ends while the first call still hangs, and ``close`` gives up."""
    import socket

    with socket.socket() as hanging:
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(16)  # accepts connections, never answers
        uri = f"http://127.0.0.1:{hanging.getsockname()[1]}"
        config = load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}", *PLAIN,
                                              f"tracking.uri={uri}"])
        live = LiveEpochs(config, "a-run")
        run_stage(config, "ingest")
        run_stage(config, "train", on_epoch=live)
        assert store_for(config).is_complete("train", stage_fingerprints(config)["train"])
        assert live.close(timeout=0.5) == () and live.failed
    assert "live epoch logging still waits for the server after 0 s" in caplog.text
