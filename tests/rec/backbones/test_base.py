"""The backbone interface and its registry: scores over items 1..n, plug-ins by name."""

from __future__ import annotations

from typing import Literal

import pytest
import torch
from torch import nn

from sracl_core.rec.backbones import (
    BACKBONES,
    Backbone,
    BackboneConfig,
    SASRecConfig,
    build_backbone,
)
from sracl_core.rec.config import TrainConfig


def test_scores_cover_items_one_to_n() -> None:
    model = build_backbone(SASRecConfig(), n_items=7, max_len=4, n_special=1)
    assert model.scores(torch.tensor([[0, 1, 2, 3]])).shape == (1, 7)


def test_a_config_variant_without_a_registered_model_is_a_clear_error() -> None:
    class BERT4RecConfig(BackboneConfig):
        name: Literal["bert4rec"] = "bert4rec"

    with pytest.raises(ValueError, match="unknown name 'bert4rec'; expected one of: gru4rec, "
                                         "sasrec"):
        build_backbone(BERT4RecConfig(), n_items=3, max_len=4)


def test_a_backbone_registered_in_one_place_is_configured_and_built(monkeypatch) -> None:
    monkeypatch.setattr(BACKBONES, "_variants", dict(BACKBONES._variants))

    class MeanPoolConfig(BackboneConfig):
        name: Literal["meanpool"] = "meanpool"
        size: int = 8

    @BACKBONES.register("meanpool", MeanPoolConfig)
    class MeanPool(Backbone):
        def __init__(self, cfg: MeanPoolConfig, n_items: int, max_len: int, **_: object):
            super().__init__()
            self.n_items, self.max_len = n_items, max_len
            self.item_embedding = nn.Embedding(n_items + 1, cfg.size, padding_idx=0)

        def encode(self, sequences: torch.Tensor) -> torch.Tensor:
            return self.item_embedding(sequences).mean(1)

    config = TrainConfig.model_validate({"backbone": {"name": "meanpool", "size": 4}})
    model = build_backbone(config.backbone, n_items=5, max_len=3)
    assert isinstance(model, MeanPool) and model.item_embedding.embedding_dim == 4
    assert model.scores(torch.tensor([[0, 1, 2]])).shape == (1, 5)
    with pytest.raises(ValueError, match="expected one of: gru4rec, meanpool, sasrec"):
        TrainConfig(backbone="meanpol")
