"""Model folders and resume states: saved whole, loaded back to the same scores."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sracl_core.errors import ArtifactCorrupt
from sracl_core.rec.backbones import build_backbone
from sracl_core.rec.checkpoint import load_model, load_train_state, save_model, save_train_state
from sracl_core.rec.config import TrainConfig


@pytest.mark.parametrize("backbone", ["sasrec", "gru4rec"])
def test_a_saved_model_loads_back_with_the_same_scores(backbone: str, tmp_path: Path) -> None:
    config = TrainConfig(backbone=backbone)
    torch.manual_seed(0)
    model = build_backbone(config.backbone, n_items=12, max_len=5, n_special=1).eval()
    save_model(tmp_path / "model", model, config, n_special=1)
    again = load_model(tmp_path / "model")
    sequences = torch.tensor([[0, 0, 3, 4, 5], [1, 2, 3, 4, 12]])
    with torch.no_grad():
        torch.testing.assert_close(again.scores(sequences), model.scores(sequences))
    assert type(again) is type(model) and not again.training


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _saved_state(tmp_path: Path) -> tuple[torch.nn.Module, torch.optim.Optimizer, Path]:
    model = build_backbone(TrainConfig().backbone, n_items=12, max_len=5, n_special=1)
    optimizer = torch.optim.Adam(model.parameters())
    last = tmp_path / "run-1" / "last"
    save_train_state(last, model, optimizer, {"cpu": torch.get_rng_state()}, {"epoch": 3})
    assert load_train_state(last, model, optimizer, torch.device("cpu"))[1] == {"epoch": 3}
    return model, optimizer, last


@pytest.mark.parametrize(("damage", "file", "named"), [
    (lambda last: _flip_one_byte(last / "module.safetensors"), "module.safetensors",
     "its content does not match the blake2b checksum in checksums.json"),
    (lambda last: (last / "progress.json").write_text('{"epoch": 3,'), "progress.json",
     "12 bytes where checksums.json recorded 16 (truncated or changed)"),
    (lambda last: (last / "rng.pt").unlink(), "rng.pt", "missing, though checksums.json lists it"),
], ids=["one-bit-in-the-weights", "cut-off-json", "missing-file"])
def test_a_damaged_resume_checkpoint_is_refused_naming_the_file(damage, file: str, named: str,
                                                                 tmp_path: Path) -> None:
    """A flipped bit in the weights loads without complaint from safetensors: before the
    seal, a bundle damaged between machines resumed and published wrong numbers."""
    model, optimizer, last = _saved_state(tmp_path)
    damage(last)
    with pytest.raises(ArtifactCorrupt) as raised:
        load_train_state(last, model, optimizer, torch.device("cpu"))
    message = str(raised.value)
    assert message.startswith(f"{last / file}: {named}")
    assert message.endswith(f"the resume checkpoint is damaged; move {last.parent} aside to "
                            "train this run from its start")


@pytest.mark.parametrize(("damage", "file", "named"), [
    (lambda last: (last / "progress.json").write_text('{"epoch": 3, "st'), "progress.json",
     "JSONDecodeError"),
    (lambda last: (last / "progress.json").write_text("[1, 2]"), "progress.json",
     "it holds a list, not an object"),
    (lambda last: (last / "module.safetensors").write_bytes(b"\0" * 7), "module.safetensors",
     "SafetensorError"),
    (lambda last: (last / "optimizer.pt").write_bytes(b"PK"), "optimizer.pt", "Error"),
], ids=["cut-off-json", "wrong-shape", "weights", "optimizer"])
def test_an_unreadable_checkpoint_from_before_seals_is_named_with_what_to_do(
        damage, file: str, named: str, tmp_path: Path) -> None:
    """Checkpoints written before seals load unchecked; a parser error is still named."""
    model, optimizer, last = _saved_state(tmp_path)
    (last / "checksums.json").unlink()
    assert load_train_state(last, model, optimizer, torch.device("cpu"))[1] == {"epoch": 3}
    damage(last)
    with pytest.raises(ArtifactCorrupt) as raised:
        load_train_state(last, model, optimizer, torch.device("cpu"))
    message = str(raised.value)
    assert message.startswith(f"{last / file}: the resume checkpoint cannot be read (")
    assert named in message
    assert message.endswith(f"move {last.parent} aside to train this run from its start")


def test_a_damaged_model_folder_is_refused(tmp_path: Path) -> None:
    config = TrainConfig()
    save_model(tmp_path / "model", build_backbone(config.backbone, n_items=12, max_len=5),
               config, n_special=0)
    _flip_one_byte(tmp_path / "model" / "model.safetensors")
    with pytest.raises(ArtifactCorrupt, match=r"model.safetensors: its content does not match "
                                              r".*: the model folder is damaged$"):
        load_model(tmp_path / "model")
