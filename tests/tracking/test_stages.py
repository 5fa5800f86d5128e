"""What a stage's outputs contribute to MLflow, in a real (SQLite) store: stats and epochs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from mlflow import MlflowClient

from sracl_core.artifacts import ArtifactStore
from sracl_core.stages.outputs import StageOutputs
from sracl_core.tracking.stages import StageLog, epoch_metrics, log_epochs, stage_logger

EPOCHS = pl.DataFrame({"epoch": [0, 1], "loss/rec": [9.0, 8.5], "valid/all/NDCG@10": [0.02, 0.03],
                       "improved": [True, True]})


def _stage_log(tmp_path: Path, live: frozenset[int] = frozenset()) -> StageLog:
    store = ArtifactStore(tmp_path / "cache", "toy")
    with store.write("train", "f" * 16, config={}, inputs={}) as writer:
        writer.write_table("epochs", EPOCHS)
        writer.stats.update(best_epoch=1, note="text is not a metric", flag=True)
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("toy", artifact_location=str(tmp_path / "art"))
    parent, child = (client.create_run(experiment).info.run_id for _ in range(2))
    return StageLog(None, client, StageOutputs(store, {"train": "f" * 16},  # type: ignore[arg-type]
                                               {"train": ("epochs",)}),
                    "train", child, parent, live)


def test_each_epoch_is_one_step_of_its_numeric_columns() -> None:
    assert epoch_metrics(EPOCHS) == [(0, {"loss/rec": 9.0, "valid/all/NDCG@10": 0.02}),
                                     (1, {"loss/rec": 8.5, "valid/all/NDCG@10": 0.03})]


def test_epochs_go_to_the_stage_run_and_only_the_unseen_ones_to_the_pipeline_run(
        tmp_path: Path) -> None:
    run = _stage_log(tmp_path, live=frozenset({0}))  # epoch 0 reached the parent live
    log_epochs(run, EPOCHS)
    history = run.client.get_metric_history
    assert [m.step for m in history(run.run_id, "valid/all/NDCG_10")] == [0, 1]
    assert [m.step for m in history(run.parent_run_id, "valid/all/NDCG_10")] == [1]


def test_a_stage_without_its_own_logger_logs_its_numeric_stats(tmp_path: Path) -> None:
    run = _stage_log(tmp_path)
    stage_logger("a-plug-in-stage")(run)
    metrics = run.client.get_run(run.run_id).data.metrics
    assert metrics == {"stats.best_epoch": 1.0}  # text and booleans are not metrics
