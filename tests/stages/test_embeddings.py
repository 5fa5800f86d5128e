"""The embeddings stage with the real embedded encoder over fake-backend profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from sracl_core.config import load_config
from sracl_core.stages.runner import run_stage
from tests.semantic.fakes import use_scripted_fake


def test_every_profile_gets_one_unit_vector_fake_backend(tiny_config: Path):
    use_scripted_fake()
    config = load_config(tiny_config, ["profiles.backend=scripted-fake"])
    for stage in ("ingest", "prompts", "profiles"):
        run_stage(config, stage)
    outcome = run_stage(config, "embeddings")
    items = pl.read_parquet(Path(outcome.path) / "item_embeddings.parquet")
    users = pl.read_parquet(Path(outcome.path) / "user_embeddings.parquet")
    assert items.schema["vector"] == pl.Array(pl.Float32, 384)
    assert items["item"].to_list() == [1, 2, 3, 4, 5]
    assert users["profile"].to_list() == [0, 1, 2] and users["user"].to_list() == [1, 2, 3]
    vectors = np.concatenate([items["vector"].to_numpy(), users["vector"].to_numpy()])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert len({tuple(np.round(row, 4)) for row in items["vector"].to_numpy()}) == 5
