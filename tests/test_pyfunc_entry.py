"""The models-from-code entry: running the file hands MLflow a fresh recommender, no pickle."""

from __future__ import annotations

import runpy

import mlflow.models.model as mlflow_model

from sracl_core.pyfunc_model import TopKRecommender
from sracl_core.tracking.model import ENTRY_FILE


def test_the_entry_file_sets_an_empty_recommender_as_the_model(monkeypatch) -> None:
    monkeypatch.delitem(vars(mlflow_model), "__mlflow_model__", raising=False)
    runpy.run_path(str(ENTRY_FILE))
    model = vars(mlflow_model)["__mlflow_model__"]
    assert isinstance(model, TopKRecommender) and not hasattr(model, "model")  # loads later
    assert ENTRY_FILE.name == "pyfunc_entry.py" and ENTRY_FILE.parent.name == "sracl_core"
