"""The neighbours stage over real embeddings of fake-backend profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from sracl_core.config import load_config
from sracl_core.stages.runner import run_stage
from tests.conftest import write_config, write_sasrec_dataset
from tests.semantic.fakes import use_scripted_fake


def _run(path: Path, *overrides: str):
    use_scripted_fake()
    config = load_config(path, ["profiles.backend=scripted-fake", *overrides])
    outcomes = {stage: run_stage(config, stage)
                for stage in ("ingest", "prompts", "profiles", "embeddings", "neighbours")}
    return {stage: Path(outcome.path) for stage, outcome in outcomes.items()}


def test_neighbours_are_the_nearest_other_ids_with_their_scores_fake_backend(tmp_path):
    titles = {i: f"{kind} number {i}" for i, kind in
              enumerate(["Red lipstick", "Pink lipstick", "Nail polish", "Shampoo",
                         "Conditioner", "Hair oil", "Face serum", "Eye cream"], start=1)}
    sequences = {1: [1, 2, 3, 4], 2: [2, 3, 4, 5, 1], 3: [5, 6, 7, 8], 4: [8, 7, 6, 5, 4],
                 5: [1, 3, 5, 7]}
    interactions, items = write_sasrec_dataset(tmp_path / "data", sequences, titles)
    paths = _run(write_config(tmp_path / "config.yaml", interactions, items),
                 "neighbours.k=3")
    vectors = pl.read_parquet(paths["embeddings"] / "item_embeddings.parquet")
    table = pl.read_parquet(paths["neighbours"] / "item_neighbours.parquet")
    assert table.schema["neighbours"] == pl.List(pl.Int32)
    ids = vectors["item"].to_numpy()
    matrix = vectors["vector"].to_numpy()
    similarity = matrix @ matrix.T
    np.fill_diagonal(similarity, -np.inf)
    for item, neighbours, scores in table.iter_rows():
        row = int(np.flatnonzero(ids == item)[0])
        assert len(neighbours) == 3 and item not in neighbours
        expected = np.sort(similarity[row])[::-1][:3]
        np.testing.assert_allclose(scores, expected, atol=1e-5)
        for neighbour, score in zip(neighbours, scores, strict=True):
            other = int(np.flatnonzero(ids == neighbour)[0])
            assert abs(similarity[row, other] - score) < 1e-5
    users = pl.read_parquet(paths["neighbours"] / "user_neighbours.parquet")
    assert users.schema["neighbours"] == pl.List(pl.Int64) and users.height == 5


def test_prefix_neighbours_never_come_from_the_same_user_fake_backend(tmp_path):
    titles = {i: f"Product {i}" for i in range(1, 9)}
    sequences = {1: [1, 2, 3, 4, 5], 2: [2, 3, 4, 5, 6, 7], 3: [5, 6, 7, 8, 1],
                 4: [8, 7, 6, 5, 4]}
    interactions, items = write_sasrec_dataset(tmp_path / "data", sequences, titles)
    paths = _run(write_config(tmp_path / "config.yaml", interactions, items),
                 "prompts.granularity=prefix", "neighbours.k=2")
    owners = pl.read_parquet(paths["embeddings"] / "user_embeddings.parquet").select(
        "profile", "user")
    table = pl.read_parquet(paths["neighbours"] / "user_neighbours.parquet")
    owner = dict(owners.iter_rows())
    assert table.height == owners.height
    for profile, neighbours, _ in table.iter_rows():
        assert all(owner[n] != owner[profile] for n in neighbours)
