"""Top-K recommendations for known users from the trained model of a config.

The model sees each user's whole known sequence (training, validation and test
items), i.e. it recommends what comes *after* the data, which is what a user of
``sracl recommend`` wants; evaluation (``stages/evaluate.py``) is the place for
held-out metrics.
"""

from __future__ import annotations

import polars as pl
import torch

from sracl_core.config import PipelineConfig
from sracl_core.errors import SraclError
from sracl_core.rec.checkpoint import load_model
from sracl_core.rec.data import left_pad
from sracl_core.rec.metrics import recommend
from sracl_core.stages.graph import outputs_of
from sracl_core.stages.rec_inputs import history_matrix


def recommend_for_users(config: PipelineConfig, users: list[int], top_k: int,
                        exclude_history: bool = True) -> pl.DataFrame:
    """One row per (user, rank) for internal user ids: ``user, rank, item, original_id,
    title, original_user`` (the internal and the dataset's ids of both)."""
    if top_k < 1:
        raise SraclError(f"top_k: expected a list of at least 1 item, got {top_k}")
    users = list(dict.fromkeys(users))  # a user asked for twice gets one list
    outputs = outputs_of(config)
    outputs.require("train", "trained model")
    model = load_model(outputs.path("train") / "model")
    sequences = outputs.table("ingest", "sequences")
    known = sequences.filter(pl.col("user").is_in(users))
    missing = sorted(set(users) - set(known["user"].to_list()))
    if missing:
        raise SraclError(f"unknown internal user ids {missing}; users are 1..{sequences.height}")
    known = known.sort(pl.col("user").replace_strict({u: i for i, u in enumerate(users)}))
    full = known.select(pl.concat_list("train", "valid", "test").alias("items"))["items"]
    inputs = torch.from_numpy(left_pad(full.to_list(), config.data.max_len))
    items = outputs.table("ingest", "items").select("item", "original_id", "title")
    top_k = min(top_k, items.height)  # a list longer than the catalogue has every item
    lists = recommend(model, inputs, top_k=top_k, exclude_history=exclude_history,
                      history=history_matrix(full))
    owners = outputs.table("ingest", "users").select(
        "user", pl.col("original_id").alias("original_user"))
    rows = pl.DataFrame({
        "user": [u for u in users for _ in range(top_k)],
        "rank": [r for _ in users for r in range(1, top_k + 1)],
        "item": lists.reshape(-1).tolist(),
    }).with_columns(pl.col("item").cast(pl.Int32))
    if exclude_history:  # past the unseen items a list would go on with the user's own
        seen = pl.DataFrame({"user": users, "item": full.to_list()}).explode("item")
        rows = rows.join(seen.with_columns(pl.col("item").cast(pl.Int32)),
                         on=["user", "item"], how="anti", maintain_order="left")
    return (rows.join(items, on="item", how="left", maintain_order="left")
            .join(owners, on="user", how="left", maintain_order="left"))
