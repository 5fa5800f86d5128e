"""What a stage is handed: its inputs read through the config's outputs, nothing else."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sracl_core.artifacts import ArtifactStore
from sracl_core.stages.context import StageContext
from sracl_core.stages.outputs import StageOutputs
from sracl_core.stages.tables import UndeclaredOutput


def test_inputs_come_from_the_upstream_artifact_at_its_fingerprint(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, "toy")
    with store.write("ingest", "1" * 16, config={}, inputs={}) as writer:
        writer.write_table("users", pl.DataFrame({"user": [7]}))
    outputs = StageOutputs(store, {"ingest": "1" * 16}, {"ingest": ("users",)})
    context = StageContext(config=None, outputs=outputs, writer=None)  # type: ignore[arg-type]
    assert context.input_table("ingest", "users")["user"].to_list() == [7]
    assert context.input_path("ingest") == tmp_path / "toy" / "ingest" / ("1" * 16)
    assert context.store is store and context.fingerprints == {"ingest": "1" * 16}
    with pytest.raises(UndeclaredOutput):
        context.input_table("ingest", "items")
