"""The trained recommender as an MLflow pyfunc: item sequences in, top-K item ids out.

The logged model carries the train stage's model folder (safetensors weights +
JSON config) and the ingest item table, so ``mlflow models serve`` answers with
both the pipeline's item ids and the dataset's original ids. It needs
``sracl_core`` importable where it is loaded (serve with ``--env-manager local``
from the project's environment). It is logged as code, not as a pickle (see
:mod:`sracl_core.pyfunc_entry`).
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd
import polars as pl
import torch
from mlflow.models import ModelSignature
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
        from sracl_core.rec.data import left_pad
        from sracl_core.rec.metrics import recommend

        params = params or {}
        raw = [list(s) for s in model_input[SEQUENCE]]
        sequences = self.window(raw)
        # the whole given sequence is history, not only the newest max_len items scored
        history = torch.from_numpy(left_pad(raw, max(1, *(len(s) for s in raw))))
        top = recommend(self.model, sequences, top_k=int(params.get("top_k", self.top_k)),
                        exclude_history=bool(params.get("exclude_history", True)),
                        history=history)
        lists = top.tolist()
        return pd.DataFrame({"items": lists,
                             "original_items": [[self.original_ids[i] for i in row]
                                                for row in lists]})

    def window(self, sequences: list[list[int]]) -> torch.Tensor:
        """Check the ids, keep each sequence's newest ``max_len`` items, left-pad with 0."""
        from sracl_core.rec.data import left_pad

        n_items = self.model.n_items
        for row, sequence in enumerate(sequences):
            bad = [item for item in sequence if not 1 <= int(item) <= n_items]
            if bad:
                raise ValueError(f"row {row}: item ids must be in 1..{n_items}, got {bad[:5]}")
        return torch.from_numpy(left_pad(sequences, self.model.max_len))
