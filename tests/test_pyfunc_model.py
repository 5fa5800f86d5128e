"""The MLflow pyfunc: loads from its artifacts, answers top-K with both ids, refuses bad ids."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import polars as pl
import pytest
import torch

from sracl_core.pyfunc_model import (
    ITEMS_ARTIFACT,
    MODEL_ARTIFACT,
    TOP_K,
    BadInput,
    TopKRecommender,
)
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
    with pytest.raises(BadInput, match=r"row 1: item ids must be in 1\.\.6, got \[7\]"):
        recommender.predict(None, pd.DataFrame({"sequence": [[1], [7, 2]]}))


def test_a_list_longer_than_the_unseen_items_holds_only_those(recommender) -> None:
    """Before, ``top_k`` past the unseen items went on with the history it was told to
    exclude, and a negative ``top_k`` returned all but one item."""
    out = recommender.predict(None, pd.DataFrame({"sequence": [[1, 2], [1, 2, 3, 4, 5, 6]]}),
                              params={"top_k": 100})
    longer, none_left = out["items"].tolist()
    assert sorted(longer) == [3, 4, 5, 6] and none_left == []
    assert out["original_items"].tolist()[1] == []


def test_no_rows_give_no_lists(recommender) -> None:
    out = recommender.predict(None, pd.DataFrame({"sequence": []}))
    assert out.empty and list(out.columns) == ["items", "original_items"]


@pytest.mark.parametrize(("frame", "params", "message"), [
    ({"sequence": [[1], [1.5, 2]]}, None, r"row 1: item ids must be whole numbers, got \[1\.5\]"),
    ({"sequence": [[True]]}, None, r"row 0: item ids must be whole numbers, got \[True\]"),
    ({"sequence": [["B2"]]}, None, r"row 0: item ids must be whole numbers, got \['B2'\]"),
    ({"sequence": [[1], None]}, None, r"row 1: expected a list of item ids, got None"),
    ({"sequence": [3]}, None, r"row 0: expected a list of item ids, got 3"),
    ({"items": [[1]]}, None, r"expected a 'sequence' column of item id lists, got columns "
                             r"\['items'\]"),
    ({"sequence": [[1]]}, {"top_k": 0}, r"params.top_k: expected a whole number of at least 1, "
                                        r"got 0"),
    ({"sequence": [[1]]}, {"top_k": -1}, r"params.top_k: .* got -1"),
    ({"sequence": [[1]]}, {"exclude_history": "false"},
     r"params.exclude_history: expected true or false, got 'false'"),
], ids=["float", "bool", "string", "none-row", "scalar-row", "no-column", "k-0", "k-negative",
        "string-flag"])
def test_bad_input_is_refused_naming_the_row_or_param(recommender, frame: dict,
                                                      params: dict | None, message: str):
    with pytest.raises(BadInput, match=message):
        recommender.predict(None, pd.DataFrame(frame), params)


@pytest.mark.network_loopback
def test_mlflow_models_serve_answers_a_bad_request_with_400_and_its_reason(tmp_path: Path):
    """A real ``mlflow models serve`` of the saved pyfunc: a good request gets its lists, a bad
    one a 400 naming the row or param (a plain exception was a 400 saying only "unexpected
    error", the reason hidden in a stack trace)."""
    import os
    import sys

    import httpx
    import mlflow.pyfunc

    from sracl_core.pyfunc_model import signature
    from sracl_core.tracking.model import ENTRY_FILE
    from tests.servers import loopback_server

    config = TrainConfig(backbone={"name": "sasrec", "hidden_size": 8, "inner_size": 16})
    save_model(tmp_path / "weights", build_backbone(config.backbone, n_items=6, max_len=4),
               config, n_special=0)
    pl.DataFrame({"item": [1, 2, 3, 4, 5, 6], "original_id": list("abcdef")}).write_parquet(
        tmp_path / "items.parquet")
    mlflow.pyfunc.save_model(tmp_path / "served", python_model=str(ENTRY_FILE),
                             model_config={TOP_K: 2}, signature=signature(2),
                             artifacts={MODEL_ARTIFACT: str(tmp_path / "weights"),
                                        ITEMS_ARTIFACT: str(tmp_path / "items.parquet")})
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(tmp_path / "served"),
               "--env-manager", "local", "--host", "127.0.0.1", "-p"]
    # it execs `uvicorn` from PATH: the environment's bin folder must be on it (an activated
    # venv), as docs/orchestration.md says
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with loopback_server(lambda port: [*command, str(port)], "/ping", tmp_path / "serve.log",
                         env=env, wait_s=180) as base:
        good = httpx.post(f"{base}/invocations", json={"dataframe_records": [{"sequence": [1, 2]}]},
                          timeout=60)
        assert good.status_code == 200, good.text
        [answer] = good.json()["predictions"]
        assert len(answer["items"]) == 2 and not {1, 2} & set(answer["items"])
        unknown = httpx.post(f"{base}/invocations", timeout=60, json={
            "dataframe_records": [{"sequence": [1]}, {"sequence": [9]}]})
        assert unknown.status_code == 400
        assert "row 1: item ids must be in 1..6, got [9]" in unknown.json()["message"]
        zero = httpx.post(f"{base}/invocations", timeout=60, json={
            "dataframe_records": [{"sequence": [1]}], "params": {"top_k": 0}})
        assert zero.status_code == 400
        assert "params.top_k: expected a whole number of at least 1, got 0" in \
            zero.json()["message"]
