"""The training loop: seeded determinism, resume after a kill, early stopping, best model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sracl_core.atomic import complete_folder
from sracl_core.errors import ArtifactCorrupt
from sracl_core.rec import TrainConfig, load_model, train
from sracl_core.rec.run_folders import BEST, LAST

SMALL = {"backbone": {"name": "sasrec", "hidden_size": 16, "inner_size": 32}, "batch_size": 32,
         "progress": False, "checkpoint_every_steps": 2}


def config(**overrides) -> TrainConfig:
    return TrainConfig.model_validate({**SMALL, **overrides})


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_same_seed_same_model(tiny_data, tiny_neighbours, tmp_path: Path) -> None:
    cfg = config(epochs=2)
    a = train(cfg, tiny_data, tiny_neighbours, seed=3, checkpoint_dir=tmp_path / "a")
    b = train(cfg, tiny_data, tiny_neighbours, seed=3, checkpoint_dir=tmp_path / "b")
    c = train(cfg, tiny_data, tiny_neighbours, seed=4, checkpoint_dir=tmp_path / "c")
    for name, value in weights(a.model).items():
        assert torch.equal(value, b.model.state_dict()[name])
    assert any(not torch.equal(v, c.model.state_dict()[k]) for k, v in weights(a.model).items())


class Killed(Exception):
    pass


def test_resume_after_a_kill_mid_epoch_matches_uninterrupted(tiny_data, tiny_neighbours,
                                                             tmp_path: Path) -> None:
    cfg = config(epochs=3, objective={"synthesizer": "learnable"})
    reports = []
    whole = train(cfg, tiny_data, tiny_neighbours, seed=0, checkpoint_dir=tmp_path / "whole",
                  on_epoch=reports.append)

    n_batches = -(-tiny_data.train_prefixes.shape[0] // 32)
    kill_step = n_batches + 3  # epoch 1, one step past its checkpoint at its step 2

    def kill_at(step: int) -> None:
        if step == kill_step:
            raise Killed

    with pytest.raises(Killed):
        train(cfg, tiny_data, tiny_neighbours, seed=0, checkpoint_dir=tmp_path / "cut",
              on_step=kill_at)
    assert complete_folder(tmp_path / "cut" / LAST) is not None
    resumed_reports = []
    resumed = train(cfg, tiny_data, tiny_neighbours, seed=0, checkpoint_dir=tmp_path / "cut",
                    on_epoch=resumed_reports.append)
    for name, value in weights(whole.model).items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    assert [r.epoch for r in resumed.history] == [0, 1, 2]
    assert [r.epoch for r in resumed_reports] == [1, 2]
    assert resumed_reports[0].losses == pytest.approx(reports[1].losses)
    assert resumed.best_valid == whole.best_valid


def test_a_damaged_best_model_is_refused_when_resuming_not_after_training(
        tiny_data, tiny_neighbours, tmp_path: Path) -> None:
    """The best model is what the run publishes: a bit flipped in it while the run was
    stopped is named at once, before more epochs are spent on a run that cannot finish."""
    cfg = config(epochs=3)
    n_batches = -(-tiny_data.train_prefixes.shape[0] // 32)

    def kill_in_epoch_1(step: int) -> None:
        if step == n_batches + 3:
            raise Killed

    with pytest.raises(Killed):
        train(cfg, tiny_data, tiny_neighbours, seed=0, checkpoint_dir=tmp_path,
              on_step=kill_in_epoch_1)
    weights_file = tmp_path / BEST / "model.safetensors"
    data = bytearray(weights_file.read_bytes())
    data[-1] ^= 0x01
    weights_file.write_bytes(bytes(data))
    steps = []
    with pytest.raises(ArtifactCorrupt, match=rf"{weights_file}: its content does not match .*"
                                              r"the best model so far is damaged; move "):
        train(cfg, tiny_data, tiny_neighbours, seed=0, checkpoint_dir=tmp_path,
              on_step=steps.append)
    assert steps == []


def test_early_stopping_and_best_checkpoint(tiny_data, tmp_path: Path) -> None:
    cfg = config(epochs=30, patience=2, lr=0.5,
                 objective="next_item")
    result = train(cfg, tiny_data, None, seed=0, checkpoint_dir=tmp_path)
    scores = [r.valid["all/NDCG@10"] for r in result.history]
    assert result.best_epoch == max(range(len(scores)), key=scores.__getitem__)
    if result.stopped_early:
        assert len(scores) - 1 - result.best_epoch == 2
    assert result.best_valid["all/NDCG@10"] == max(scores)
    assert {"all/HR@10", "all/MRR@20"} <= set(result.best_valid)


def test_saved_model_reloads_without_training_code(tiny_data, tmp_path: Path) -> None:
    cfg = config(epochs=1, objective="cl4srec")
    result = train(cfg, tiny_data, None, seed=0, checkpoint_dir=tmp_path)
    again = load_model(tmp_path / BEST)
    seqs = tiny_data.test.inputs
    with torch.no_grad():
        torch.testing.assert_close(again.scores(seqs), result.model.scores(seqs))
    assert again.scores(seqs).shape[1] == tiny_data.n_items  # the mask token is not ranked


def test_gru4rec_trains_with_sracl(tiny_data, tiny_neighbours, tmp_path: Path) -> None:
    cfg = config(epochs=1, backbone={"name": "gru4rec", "embedding_size": 16,
                                      "hidden_size": 16})
    result = train(cfg, tiny_data, tiny_neighbours, seed=0, checkpoint_dir=tmp_path)
    assert set(result.history[0].losses) == {"rec", "cs", "is", "total"}


def test_sasrec_learns_the_synthetic_signal(tiny_data, tmp_path: Path) -> None:
    cfg = config(epochs=15, patience=15,
                 backbone={"name": "sasrec", "hidden_size": 32, "inner_size": 64,
                           "hidden_dropout": 0.1, "attn_dropout": 0.1},
                 objective="next_item")
    result = train(cfg, tiny_data, None, seed=0, checkpoint_dir=tmp_path)
    # users step 1-2 items forward: random ranking would give HR@10 = 1/3
    assert result.best_valid["all/HR@10"] > 0.6


def test_a_stop_request_from_another_thread_checkpoints_at_once_and_resumes_exactly(
        tiny_data, tiny_neighbours, tmp_path: Path) -> None:
    import threading

    from sracl_core.stopping import StopRequested, clear_stop, request_stop

    # No periodic checkpoint in an epoch. One thread, set by train() in each thread it runs
    # in: OpenMP's thread count is per thread, and state left by other tests in this process
    # (an in-process vLLM engine binds the main thread's team) must not change the sums.
    cfg = config(epochs=2, checkpoint_every_steps=1000, num_threads=1)
    whole = train(cfg, tiny_data, tiny_neighbours, seed=0, checkpoint_dir=tmp_path / "whole")
    n_batches = -(-tiny_data.train_prefixes.shape[0] // 32)
    outcome: dict[str, BaseException] = {}

    def stopped_in_a_worker() -> None:
        def stop_at(step: int) -> None:
            if step == n_batches + 2:  # epoch 1, step 2: far from any checkpoint
                request_stop()

        try:
            train(cfg, tiny_data, tiny_neighbours, seed=0, checkpoint_dir=tmp_path / "cut",
                  on_step=stop_at)
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=stopped_in_a_worker)
    try:
        worker.start()
        worker.join(timeout=300)
    finally:
        clear_stop()
    assert isinstance(outcome.get("error"), StopRequested)
    assert "epoch 1, step 2" in str(outcome["error"])
    resumed = train(cfg, tiny_data, tiny_neighbours, seed=0, checkpoint_dir=tmp_path / "cut")
    for name, value in weights(whole.model).items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    assert [r.losses for r in resumed.history] == [r.losses for r in whole.history]
