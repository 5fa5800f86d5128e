"""The train stage on the embedded default: its epoch log, model and checkpoints."""

from __future__ import annotations

from pathlib import Path

from sracl_core.stages.graph import store_for


def test_plain_backbone_needs_no_llm_stages(trained):
    _, outcomes = trained
    assert list(outcomes) == ["ingest", "train", "evaluate"]


def test_train_writes_the_epoch_log_and_a_loadable_model(trained):
    config, outcomes = trained
    epochs = store_for(config).read_table("train", outcomes["train"].fingerprint, "epochs")
    assert epochs["epoch"].to_list() == [0, 1]
    assert {"loss/rec", "loss/total", "valid/all/NDCG@10"} <= set(epochs.columns)
    assert (Path(outcomes["train"].path) / "model" / "model.safetensors").is_file()
    checkpoints = config.cache_root / config.dataset / "train" / ".checkpoints"
    runs = list((checkpoints / outcomes["train"].fingerprint).iterdir())
    assert [run.name[:4] for run in runs] == ["run-"], "each run checkpoints in its own folder"
    assert (runs[0] / "best" / "model.safetensors").is_file()
