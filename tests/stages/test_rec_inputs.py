from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from sracl_core.config import load_config
from sracl_core.rec.file_rows import FileRows
from sracl_core.stages.context import StageContext
from sracl_core.stages.graph import outputs_of, stage_fingerprints
from sracl_core.stages.rec_inputs import semantic_neighbours, training_data
from sracl_core.stages.runner import run_stage


def context_for(config_path: Path, overrides: list[str] | None = None) -> StageContext:
    config = load_config(config_path, overrides or [])
    run_stage(config, "ingest")
    return StageContext(config, outputs_of(config), writer=None)


def publish(context: StageContext, stage: str, tables: dict[str, pl.DataFrame]) -> None:
    with context.store.write(stage, context.fingerprints[stage], config={}, inputs={}) as writer:
        for name, table in tables.items():
            writer.write_table(name, table)


def test_training_data_matches_the_split(tiny_config: Path):
    data = training_data(context_for(tiny_config, ["data.max_len=2"]))
    assert data.n_items == 5
    assert data.train_prefixes.tolist() == [[0, 1], [0, 2], [2, 3]]
    assert data.train_targets.tolist() == [2, 3, 4]
    assert data.train_users.tolist() == [1, 2, 2]
    assert data.valid.inputs.tolist() == [[1, 2], [3, 4], [0, 5]]
    assert data.valid.targets.tolist() == [3, 5, 4]
    assert data.test.inputs.tolist() == [[2, 3], [4, 5], [5, 4]]
    assert data.test.targets.tolist() == [4, 1, 3]


def semantic_tables(granularity: str) -> dict[str, dict[str, pl.DataFrame]]:
    if granularity == "user":
        prompts = pl.DataFrame({"profile": [0, 1, 2], "user": [1, 2, 3],
                                "sample": [None, None, None]},
                               schema={"profile": pl.Int64, "user": pl.Int32,
                                       "sample": pl.Int64})
        sample_profiles = pl.DataFrame({"sample": [0, 1, 2], "profile": [0, 1, 1]})
    else:
        prompts = pl.DataFrame({"profile": [0, 1, 2], "user": [1, 2, 2], "sample": [0, 1, 2]},
                               schema={"profile": pl.Int64, "user": pl.Int32,
                                       "sample": pl.Int64})
        sample_profiles = pl.DataFrame({"sample": [0, 1, 2], "profile": [0, 1, 2]})
    vectors = np.eye(3, dtype=np.float32).tolist()
    return {
        "prompts": {"user_prompts": prompts, "sample_profiles": sample_profiles},
        "embeddings": {"user_embeddings": pl.DataFrame(
            {"profile": [2, 0, 1], "vector": [vectors[2], vectors[0], vectors[1]]})},
        "neighbours": {
            "item_neighbours": pl.DataFrame({"item": [5, 4, 3, 2, 1],
                                             "neighbours": [[4], [5], [2], [3], [2]]}),
            "user_neighbours": pl.DataFrame({"profile": [0, 1, 2],
                                             "neighbours": [[1, 2], [0, 2], [0, 1]]}),
        },
    }


@pytest.mark.parametrize("granularity", ["user", "prefix"])
def test_semantic_neighbours_follow_profile_rows(tiny_config: Path, granularity: str):
    context = context_for(tiny_config, ["data.max_len=3", "neighbours.k=2"])
    for stage, tables in semantic_tables(granularity).items():
        publish(context, stage, tables)
    neighbours = semantic_neighbours(context)
    assert neighbours.item_neighbours.tolist() == [[0, 0], [2, 2], [3, 3], [2, 2], [5, 5],
                                                   [4, 4]]
    assert neighbours.profile_neighbours.tolist() == [[1, 2], [0, 2], [0, 1]]
    assert neighbours.profile_embeddings.tolist() == np.eye(3).tolist()
    if granularity == "user":
        assert neighbours.sample_profile.tolist() == [0, 1, 1]
        assert neighbours.profile_sequences.tolist() == [[0, 1, 2], [2, 3, 4], [0, 0, 5]]
    else:
        assert neighbours.sample_profile.tolist() == [0, 1, 2]
        assert neighbours.profile_sequences.tolist() == [[0, 0, 1], [0, 0, 2], [0, 2, 3]]
    neighbours.check(training_data(context))


def test_profile_embeddings_on_disk_hold_the_same_rows_and_leave_no_file(tiny_config: Path):
    context = context_for(tiny_config, ["data.max_len=3", "neighbours.k=2",
                                        "train.profile_embeddings=disk"])
    for stage, tables in semantic_tables("prefix").items():
        publish(context, stage, tables)
    neighbours = semantic_neighbours(context)
    assert isinstance(neighbours.profile_embeddings, FileRows)
    assert neighbours.profile_embeddings[torch.tensor([[2, 0], [1, 1]])].tolist() == [
        [[0, 0, 1], [1, 0, 0]], [[0, 1, 0], [0, 1, 0]]]
    train_folder = context.outputs.stage_folder("train")
    assert list(train_folder.iterdir()) == []
    neighbours.check(training_data(context))


def test_a_profile_without_a_vector_is_named_before_training(tiny_config: Path):
    context = context_for(tiny_config, ["data.max_len=3", "neighbours.k=2"])
    tables = semantic_tables("prefix")
    tables["embeddings"]["user_embeddings"] = tables["embeddings"]["user_embeddings"].head(2)
    for stage, stage_tables in tables.items():
        publish(context, stage, stage_tables)
    with pytest.raises(ValueError, match="2 of 3 profiles have a vector"):
        semantic_neighbours(context)


def test_where_profile_embeddings_live_does_not_change_what_is_trained(tiny_config: Path):
    memory, disk = (load_config(tiny_config, [f"train.profile_embeddings={where}"])
                    for where in ("memory", "disk"))
    assert stage_fingerprints(memory) == stage_fingerprints(disk)


@pytest.mark.parametrize(("profiles", "vectors", "expected"), [
    ([0, 1, 3], [[1, 0, 0]] * 3, r"profile rows 0\.\.3, expected 0\.\.2"),
    ([0, 1, 1, 2], [[1, 0, 0]] * 4, "profile 1 has more than one vector"),
    ([0, 1, 2], [[1, 0, 0], [0, 1], [0, 0, 1]], r"vectors of lengths \[3, 2\]"),
])
def test_malformed_profile_vectors_are_named_with_their_file(tiny_config: Path, profiles,
                                                             vectors, expected):
    context = context_for(tiny_config, ["data.max_len=3", "neighbours.k=2"])
    tables = semantic_tables("prefix")
    tables["embeddings"]["user_embeddings"] = pl.DataFrame(
        {"profile": profiles, "vector": vectors})
    for stage, stage_tables in tables.items():
        publish(context, stage, stage_tables)
    with pytest.raises(ValueError, match=expected) as error:
        semantic_neighbours(context)
    assert "user_embeddings.parquet" in str(error.value)
