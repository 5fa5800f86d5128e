"""The trained recommender as an MLflow pyfunc: item sequences in, top-K item ids out.

The logged model carries the train stage's model folder (safetensors weights +
JSON config) and the ingest item table, so ``mlflow models serve`` answers with
both the pipeline's item ids and the dataset's original ids. It needs
``sracl_core`` importable where it is loaded (serve with ``--env-manager local``
from the project's environment). It is logged as code, not as a pickle (see
:mod:`sracl_core.pyfunc_entry`).
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import polars as pl
import torch
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.types.schema import Array, ColSpec, ParamSchema, ParamSpec, Schema

SEQUENCE = "sequence"
MODEL_ARTIFACT = "model"
ITEMS_ARTIFACT = "items"


def signature(top_k: int) -> ModelSignature:
    """Input: a ``sequence`` of item ids per row (oldest first); params: ``top_k``,
    ``exclude_history``; output: ``items`` (pipeline ids) and ``original_items``."""
    return ModelSignature(
        inputs=Schema([ColSpec(Array("long"), SEQUENCE)]),
        outputs=Schema([ColSpec(Array("long"), "items"),
                        ColSpec(Array("string"), "original_items")]),
        params=ParamSchema([ParamSpec("top_k", "long", top_k),
                            ParamSpec("exclude_history", "boolean", True)]),
    )


def input_example() -> pd.DataFrame:
    return pd.DataFrame({SEQUENCE: [[1, 2, 3], [4]]})


TOP_K = "top_k"
"""The ``model_config`` key of the default list length (the logged model holds no object)."""
DEFAULT_TOP_K = 20


class TopKRecommender(mlflow.pyfunc.PythonModel):
    """Scores every item for each input sequence and returns the best ``top_k``.

    Built empty by :mod:`sracl_core.pyfunc_entry` when MLflow loads the model; everything
    it needs comes from the logged artifacts and ``model_config``.
    """

    top_k: int = DEFAULT_TOP_K

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        from sracl_core.rec.checkpoint import load_model

        self.top_k = int((context.model_config or {}).get(TOP_K, DEFAULT_TOP_K))
        self.model = load_model(context.artifacts[MODEL_ARTIFACT])
        items = pl.read_parquet(context.artifacts[ITEMS_ARTIFACT]).sort("item")
        self.original_ids = ["", *items["original_id"].cast(pl.String).to_list()]

    def predict(self, context: mlflow.pyfunc.PythonModelContext, model_input: pd.DataFrame,
                params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Bad input raises :class:`BadInput`, which ``mlflow models serve`` answers as a 400
        with its message (any other exception becomes an opaque "unexpected error")."""
        from sracl_core.rec.data import left_pad
        from sracl_core.rec.metrics import recommend

        params = params or {}
        top_k, exclude_history = self.list_params(params)
        if SEQUENCE not in model_input:
            raise BadInput(f"expected a {SEQUENCE!r} column of item id lists, got columns "
                           f"{list(model_input.columns)}")
        raw = [self.checked_row(row, value) for row, value in enumerate(model_input[SEQUENCE])]
        if not raw:
            return pd.DataFrame({"items": [], "original_items": []})
        # the whole given sequence is history, not only the newest max_len items scored
        history = torch.from_numpy(left_pad(raw, max(1, *(len(s) for s in raw))))
        top = recommend(self.model, torch.from_numpy(left_pad(raw, self.model.max_len)),
                        top_k=min(top_k, self.model.n_items), exclude_history=exclude_history,
                        history=history)
        lists = top.tolist()
        if exclude_history:  # past the unseen items a list would go on with the history
            lists = [[item for item in row if item not in seen]
                     for row, seen in zip(lists, map(set, raw), strict=True)]
        return pd.DataFrame({"items": lists,
                             "original_items": [[self.original_ids[i] for i in row]
                                                for row in lists]})

    def list_params(self, params: dict[str, Any]) -> tuple[int, bool]:
        """``top_k`` (at least 1; a list holds at most every item) and ``exclude_history``."""
        top_k = params.get("top_k", self.top_k)
        if isinstance(top_k, bool) or not isinstance(top_k, Integral) or top_k < 1:
            raise BadInput(f"params.top_k: expected a whole number of at least 1, got {top_k!r}")
        exclude = params.get("exclude_history", True)
        if not isinstance(exclude, bool | np.bool_):
            raise BadInput(f"params.exclude_history: expected true or false, got {exclude!r}")
        return int(top_k), bool(exclude)

    def checked_row(self, row: int, value: Any) -> list[int]:
        """One input sequence as item ids in 1..n_items; anything else names its row."""
        n_items = self.model.n_items
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise BadInput(f"row {row}: expected a list of item ids, got {value!r}")
        items = list(value)
        wrong = [item for item in items
                 if isinstance(item, bool | np.bool_) or not isinstance(item, Integral)]
        if wrong:
            raise BadInput(f"row {row}: item ids must be whole numbers, got {wrong[:5]}")
        bad = [int(item) for item in items if not 1 <= int(item) <= n_items]
        if bad:
            raise BadInput(f"row {row}: item ids must be in 1..{n_items}, got {bad[:5]}")
        return [int(item) for item in items]


class BadInput(MlflowException, ValueError):
    """A request the model cannot answer, with what was expected: HTTP 400 when served, a
    ValueError to Python callers."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)
