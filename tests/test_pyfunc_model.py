"""The MLflow pyfunc: loads from its artifacts, answers top-K with both ids, refuses bad ids."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import polars as pl
import pytest
import torch

from sracl_core.pyfunc_model import ITEMS_ARTIFACT, MODEL_ARTIFACT, TOP_K, TopKRecommender
from sracl_core.rec.backbones import build_backbone
from sracl_core.rec.checkpoint import save_model
from sracl_core.rec.config import TrainConfig


@pytest.fixture
def recommender(tmp_path: Path) -> TopKRecommender:
    config = TrainConfig(backbone={"name": "sasrec", "hidden_size": 8, "inner_size": 16})
    torch.manual_seed(0)
    save_model(tmp_path / "model", build_backbone(config.backbone, n_items=6, max_len=4),
               config, n_special=0)
    pl.DataFrame({"item": [2, 1, 3, 4, 5, 6],
                  "original_id": ["B2", "A1", "C3", "D4", "E5", "F6"]}).write_parquet(
        tmp_path / "items.parquet")
    model = TopKRecommender()
    model.load_context(SimpleNamespace(
        artifacts={MODEL_ARTIFACT: str(tmp_path / "model"),
                   ITEMS_ARTIFACT: str(tmp_path / "items.parquet")},
        model_config={TOP_K: 3}))
    return model


def test_lists_exclude_the_history_and_carry_the_datasets_ids(recommender) -> None:
    out = recommender.predict(None, pd.DataFrame({"sequence": [[3, 4], [6]]}))
    first, second = out["items"].tolist()
    assert len(first) == len(second) == 3  # model_config's top_k
    assert not set(first) & {3, 4} and 6 not in second
    names = {1: "A1", 2: "B2", 3: "C3", 4: "D4", 5: "E5", 6: "F6"}
    assert out["original_items"].tolist()[1] == [names[i] for i in second]


def test_history_older_than_the_models_window_is_still_excluded(recommender) -> None:
    out = recommender.predict(None, pd.DataFrame({"sequence": [[1, 2, 3, 4, 5]]}),
                              params={"top_k": 1})
    assert out["items"].tolist() == [[6]]  # item 1 is outside the 4-item window, still seen


def test_params_override_the_list_length_and_history_filter(recommender) -> None:
    out = recommender.predict(None, pd.DataFrame({"sequence": [[1]]}),
                              params={"top_k": 6, "exclude_history": False})
    assert sorted(out["items"].tolist()[0]) == [1, 2, 3, 4, 5, 6]


def test_an_unknown_item_id_names_its_row(recommender) -> None:
    with pytest.raises(ValueError, match=r"row 1: item ids must be in 1\.\.6, got \[7\]"):
        recommender.predict(None, pd.DataFrame({"sequence": [[1], [7, 2]]}))
