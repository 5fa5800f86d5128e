"""Declared output tables: what a schema accepts and what the checked writer refuses."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sracl_core.artifacts import StageWriter
from sracl_core.stages.tables import CheckedWriter, Table, UndeclaredOutput

EPOCHS = Table({"epoch": pl.Int64()}, prefixes=("loss/", "valid/"))
VECTORS = Table({"item": pl.Int32(), "vector": pl.Array(pl.Float32(), 1)})


def test_a_schema_names_each_missing_extra_or_mistyped_column() -> None:
    assert EPOCHS.problems({"epoch": pl.Int64(), "loss/rec": pl.Float64(),
                            "valid/all/HR@10": pl.Float64()}) == []
    assert EPOCHS.problems({"loss/rec": pl.Int64(), "seconds": pl.Float64()}) == [
        "column 'epoch' is missing", "column 'loss/rec' is Int64, declared Float64",
        "column 'seconds' is not declared"]


def test_an_array_column_matches_any_width_of_its_inner_type() -> None:
    assert VECTORS.problems({"item": pl.Int32(), "vector": pl.Array(pl.Float32(), 384)}) == []
    assert VECTORS.problems({"item": pl.Int32(), "vector": pl.Array(pl.Float64(), 384)}) == [
        "column 'vector' is Array(Float64, shape=(384,)), declared Array(Float32, shape=(1,))"]
    assert VECTORS.problems({"item": pl.Int32(), "vector": pl.List(pl.Float32())}) != []


def test_the_checked_writer_writes_declared_tables_and_reports_the_rest(tmp_path: Path) -> None:
    writer = CheckedWriter("embeddings", {"items": VECTORS,
                                          "extra": Table({"x": pl.Int64()}, optional=True)},
                           StageWriter(tmp_path))
    with pytest.raises(UndeclaredOutput, match=r"embeddings: declared tables not written: "
                                                r"items"):
        writer.check_complete()
    table = pl.DataFrame({"item": [1, 2], "vector": [[0.5, 0.5], [1.0, 0.0]]},
                         schema={"item": pl.Int32(), "vector": pl.Array(pl.Float32(), 2)})
    assert writer.write_table("items", table).is_file()
    writer.check_complete()  # the optional table may stay unwritten
    with pytest.raises(UndeclaredOutput, match=r"table 'users' is not declared \(declared: "
                                                r"extra, items\)"):
        writer.write_table("users", table)
    with pytest.raises(UndeclaredOutput, match=r"table 'items': column 'item' is Int64"):
        writer.write_table("items", table.cast({"item": pl.Int64()}))
