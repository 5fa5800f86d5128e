"""Turn ingest and semantic artifacts into the recommender's tensors.

The rec library knows nothing about the artifact store; this module is the one
place that knows both the table layouts and the tensor layouts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow.compute as pc
import torch

from sracl_core.rec.data import EvalSplit, SemanticNeighbours, TrainingData, left_pad
from sracl_core.rec.file_rows import FileRows

if TYPE_CHECKING:
    from sracl_core.stages.context import StageContext


def training_data(context: StageContext) -> TrainingData:
    """Training prefixes and the two leave-one-out evaluation splits."""
    max_len = context.config.data.max_len
    n_items = context.input_table("ingest", "items").height
    samples = context.input_table("ingest", "train_samples").sort("sample")
    return TrainingData(
        train_prefixes=_padded(samples["prefix"], max_len),
        train_targets=_long(samples["target"]),
        train_users=_long(samples["user"]),
        n_items=n_items,
        valid=evaluation_split(context, "valid"),
        test=evaluation_split(context, "test"),
    )


def evaluation_split(context: StageContext, split: str) -> EvalSplit:
    """Validation: training sequence -> valid item. Test: training + valid item -> test item."""
    sequences = context.input_table("ingest", "sequences").sort("user")
    inputs = sequences["train"]
    if split == "test":
        inputs = sequences.select(pl.concat_list("train", "valid"))["train"]
    return EvalSplit(_padded(inputs, context.config.data.max_len), _long(sequences[split]),
                     _long(sequences["user"]))


def full_history(context: StageContext, split: str) -> torch.Tensor:
    """Every item a user had before the split's target, padded to the longest history.

    Filtering seen items must use the whole history, not the ``max_len`` input
    window, or long-history users get already-bought items recommended.
    """
    sequences = context.input_table("ingest", "sequences").sort("user")
    history = sequences["train"]
    if split == "test":
        history = sequences.select(pl.concat_list("train", "valid"))["train"]
    return history_matrix(history)


def history_matrix(histories: pl.Series) -> torch.Tensor:
    width = max(1, int(histories.list.len().max() or 1))
    return _padded(histories, width)


def semantic_neighbours(context: StageContext) -> SemanticNeighbours:
    """Item neighbours, and for every training sample its profile row and that row's neighbours.

    A profile row stands for a user's training sequence (granularity ``user``)
    or for one training prefix (``prefix``); its sequence is what L_CS encodes
    when the row is retrieved as a neighbour.
    """
    max_len = context.config.data.max_len
    k = context.config.neighbours.k
    n_items = context.input_table("ingest", "items").height
    items = context.input_table("neighbours", "item_neighbours").sort("item")
    item_table = np.zeros((n_items + 1, k), dtype=np.int64)
    item_table[items["item"].to_numpy()] = _fixed_width(items["neighbours"], k)

    profiles = context.input_table("prompts", "user_prompts").sort("profile")
    sequences = context.input_table("ingest", "sequences").select("user", "train")
    samples = context.input_table("ingest", "train_samples").select("sample", "prefix")
    with_sequence = (
        profiles.join(sequences, on="user", how="left", maintain_order="left")
        .join(samples, on="sample", how="left", maintain_order="left")
        .with_columns(pl.coalesce("prefix", "train").alias("sequence"))
    )
    neighbours = context.input_table("neighbours", "user_neighbours").sort("profile")
    sample_profile = context.input_table("prompts", "sample_profiles").sort("sample")
    return SemanticNeighbours(
        item_neighbours=torch.from_numpy(item_table),
        sample_profile=_long(sample_profile["profile"]),
        profile_neighbours=torch.from_numpy(_fixed_width(neighbours["neighbours"], k)),
        profile_sequences=_padded(with_sequence["sequence"], max_len),
        profile_embeddings=profile_vectors(context, profiles.height),
    )


def profile_vectors(context: StageContext, n_profiles: int) -> torch.Tensor | FileRows:
    """The profiles' frozen vectors as an ``[n_profiles, dim]`` matrix, row = profile, in
    memory or in a file (``train.profile_embeddings``).

    Read a Parquet batch at a time into the matrix: the table is never held whole beside
    it (as Python floats it was ~32 bytes a value: 4.3 GB at the paper's settings).
    """
    stage = "neighbours" if context.config.neighbours.source == "collaborative" \
        else "embeddings"
    where = context.outputs.path(stage) / "user_embeddings.parquet"
    matrix: np.ndarray | FileRows | None = None
    filled = np.zeros(n_profiles, dtype=bool)
    for batch in context.outputs.table_batches(stage, "user_embeddings", ["profile", "vector"]):
        rows = batch.column("profile").to_numpy().astype(np.int64)
        column = batch.column("vector")
        widths = pc.unique(pc.list_value_length(column)).to_pylist()
        dim = matrix.shape[1] if matrix is not None else (widths[0] if widths else 0)
        if column.null_count or widths not in ([], [dim]) or not dim:
            raise ValueError(f"{where}: vectors of lengths {widths} (nulls: "
                             f"{column.null_count}); expected one length for every profile")
        if len(rows) and (rows.min() < 0 or rows.max() >= n_profiles):
            raise ValueError(f"{where}: profile rows {rows.min()}..{rows.max()}, expected "
                             f"0..{n_profiles - 1} (one per user prompt)")
        distinct, counts = np.unique(rows, return_counts=True)
        repeated = np.concatenate([distinct[counts > 1], rows[filled[rows]]])
        if len(repeated):
            raise ValueError(f"{where}: profile {int(repeated[0])} has more than one vector; "
                             "expected one per user prompt")
        if matrix is None:
            matrix = _empty_matrix(context, n_profiles, dim)
        matrix[rows] = column.flatten().to_numpy().reshape(len(rows), dim)
        filled[rows] = True
    if matrix is None or not filled.all():
        raise ValueError(f"{where}: {int(filled.sum())} of {n_profiles} profiles have a "
                         "vector; expected one per user prompt")
    return torch.from_numpy(matrix) if isinstance(matrix, np.ndarray) else matrix


def _empty_matrix(context: StageContext, n_rows: int, dim: int) -> np.ndarray | FileRows:
    """In memory, or in a file in the train stage's folder: under the cache root, so on
    the disk the user gave the pipeline for its data (not a tmpfs ``/tmp``)."""
    if context.config.train.profile_embeddings == "disk":
        folder = context.outputs.stage_folder("train")
        folder.mkdir(parents=True, exist_ok=True)
        return FileRows.empty(n_rows, dim, folder)
    return np.empty((n_rows, dim), dtype=np.float32)


def _fixed_width(lists: pl.Series, k: int) -> np.ndarray:
    """Neighbour lists as a [n, k] matrix; a list shorter than k (tiny data) is cycled."""
    rows = lists.to_list()
    out = np.empty((len(rows), k), dtype=np.int64)
    for row, values in enumerate(rows):
        if not values:
            raise ValueError(f"row {row} has no neighbours; need at least two items/profiles")
        out[row] = np.resize(np.asarray(values, dtype=np.int64), k)
    return out


def _padded(lists: pl.Series, max_len: int) -> torch.Tensor:
    return torch.from_numpy(left_pad(lists.to_list(), max_len))


def _long(values: pl.Series) -> torch.Tensor:
    return torch.from_numpy(values.cast(pl.Int64).to_numpy().copy())
