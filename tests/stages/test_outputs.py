"""StageOutputs: finding, requiring and reading a config's artifacts."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sracl_core.artifacts import ArtifactStore
from sracl_core.errors import ArtifactCorrupt, SraclError
from sracl_core.stages.outputs import StageOutputs
from sracl_core.stages.tables import UndeclaredOutput


@pytest.fixture
def outputs(tmp_path: Path) -> StageOutputs:
    store = ArtifactStore(tmp_path, "toy")
    with store.write("ingest", "f" * 16, config={}, inputs={}) as writer:
        writer.write_table("users", pl.DataFrame({"user": [1, 2]}))
    return StageOutputs(store, {"ingest": "f" * 16, "train": "0" * 16},
                        {"ingest": ("users", "items"), "train": ("epochs",)})


def test_a_written_table_is_read_and_an_unwritten_one_is_none(outputs: StageOutputs) -> None:
    assert outputs.table("ingest", "users")["user"].to_list() == [1, 2]
    assert outputs.table_if_written("ingest", "items") is None  # declared, not written
    assert outputs.table_if_written("train", "epochs") is None  # no artifact at all
    assert outputs.manifest("train") is None and outputs.manifest("ingest")["fingerprint"]
    assert outputs.path("ingest") == outputs.store.path("ingest", "f" * 16)


def test_a_missing_artifact_says_what_to_run(outputs: StageOutputs) -> None:
    outputs.require("ingest", "ingested data")
    with pytest.raises(SraclError, match=r"^no trained model for this config yet \(train "
                                         r"0{16}\); run `sracl run` with this config"):
        outputs.require("train", "trained model")


def test_a_table_the_stage_does_not_declare_is_a_programming_error(outputs) -> None:
    with pytest.raises(UndeclaredOutput, match=r"ingest declares no table 'user' \(it writes: "
                                               r"items, users\)"):
        outputs.table("ingest", "user")


def test_a_table_read_in_batches_comes_whole_and_an_unreadable_one_is_named(
        outputs: StageOutputs) -> None:
    batches = list(outputs.table_batches("ingest", "users", ["user"], rows_per_batch=1))
    assert [batch.column("user").to_pylist() for batch in batches] == [[1], [2]]
    path = outputs.path("ingest") / "users.parquet"
    path.write_bytes(b"not parquet")
    for read in (lambda: outputs.table("ingest", "users"),
                 lambda: list(outputs.table_batches("ingest", "users", ["user"]))):
        with pytest.raises(ArtifactCorrupt, match=rf"^{path}: unreadable Parquet \(.+\); the "
                                                  "cached artifact .* is damaged"):
            read()
