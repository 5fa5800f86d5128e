"""Model folders and resume states: saved whole, loaded back to the same scores."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sracl_core.rec.backbones import build_backbone
from sracl_core.rec.checkpoint import load_model, save_model
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
