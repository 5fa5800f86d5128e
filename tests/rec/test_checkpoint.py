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


@pytest.mark.parametrize(("damage", "file", "named"), [
    (lambda last: (last / "progress.json").write_text('{"epoch": 3, "st'), "progress.json",
     "JSONDecodeError"),
    (lambda last: (last / "progress.json").write_text("[1, 2]"), "progress.json",
     "it holds a list, not an object"),
    (lambda last: (last / "module.safetensors").write_bytes(b"\0" * 7), "module.safetensors",
     "SafetensorError"),
    (lambda last: (last / "optimizer.pt").write_bytes(b"PK"), "optimizer.pt", "Error"),
], ids=["cut-off-json", "wrong-shape", "weights", "optimizer"])
def test_a_damaged_resume_checkpoint_is_named_with_what_to_do(damage, file: str, named: str,
                                                               tmp_path: Path) -> None:
    """Before, every retry of the run failed with the bare parser error."""
    model = build_backbone(TrainConfig().backbone, n_items=12, max_len=5, n_special=1)
    optimizer = torch.optim.Adam(model.parameters())
    last = tmp_path / "run-1" / "last"
    save_train_state(last, model, optimizer, {"cpu": torch.get_rng_state()}, {"epoch": 3})
    assert load_train_state(last, model, optimizer, torch.device("cpu"))[1] == {"epoch": 3}
    damage(last)
    with pytest.raises(ArtifactCorrupt) as raised:
        load_train_state(last, model, optimizer, torch.device("cpu"))
    message = str(raised.value)
    assert message.startswith(f"{last / file}: the resume checkpoint cannot be read (")
    assert named in message
    assert message.endswith(f"move {last.parent} aside to train this run from its start")
