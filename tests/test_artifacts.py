import json
from pathlib import Path

import polars as pl
import pytest

from sracl_core.artifacts import MANIFEST, ArtifactStore, fingerprint
from sracl_core.errors import StageInputMissing
from tests.processes import FILE_BARRIER, finish, start


def test_fingerprint_is_stable_and_sensitive_to_every_part():
    base = fingerprint("train", "1", {"alpha": 0.1, "nested": {"b": 1}}, {"ingest": "abc"})
    reordered = fingerprint("train", "1", {"nested": {"b": 1}, "alpha": 0.1}, {"ingest": "abc"})
    assert base == reordered
    assert len(base) == 16
    variants = [
        fingerprint("evaluate", "1", {"alpha": 0.1, "nested": {"b": 1}}, {"ingest": "abc"}),
        fingerprint("train", "2", {"alpha": 0.1, "nested": {"b": 1}}, {"ingest": "abc"}),
        fingerprint("train", "1", {"alpha": 0.2, "nested": {"b": 1}}, {"ingest": "abc"}),
        fingerprint("train", "1", {"alpha": 0.1, "nested": {"b": 2}}, {"ingest": "abc"}),
        fingerprint("train", "1", {"alpha": 0.1, "nested": {"b": 1}}, {"ingest": "abd"}),
    ]
    assert len({base, *variants}) == 6


def test_write_publishes_tables_and_a_manifest(tmp_path: Path):
    store = ArtifactStore(tmp_path, "ds")
    table = pl.DataFrame({"a": [1, 2, 3]})
    with store.write("ingest", "f1", config={"k": 5}, inputs={"up": "u1"}) as writer:
        writer.write_table("numbers", table)
        writer.stats["n"] = 3
        assert not store.is_complete("ingest", "f1")
    assert store.is_complete("ingest", "f1")
    assert store.read_table("ingest", "f1", "numbers").equals(table)
    manifest = store.manifest("ingest", "f1")
    assert manifest["config"] == {"k": 5}
    assert manifest["inputs"] == {"up": "u1"}
    assert manifest["tables"] == {"numbers": 3}
    assert manifest["stats"] == {"n": 3}
    assert manifest["versions"]["polars"] == pl.__version__
    assert manifest["wall_seconds"] >= 0
    assert sorted(p.name for p in (tmp_path / "ds" / "ingest").iterdir()) == ["f1"]


def test_failed_stage_publishes_nothing_and_keeps_existing_artifacts(tmp_path: Path):
    store = ArtifactStore(tmp_path, "ds")
    with store.write("ingest", "old", config={}, inputs={}) as writer:
        writer.write_table("t", pl.DataFrame({"a": [1]}))
    with pytest.raises(RuntimeError), store.write("ingest", "new", config={}, inputs={}) as w:
        w.write_table("t", pl.DataFrame({"a": [2]}))
        raise RuntimeError("boom")
    assert not store.is_complete("ingest", "new")
    assert not store.path("ingest", "new").exists()
    assert store.read_table("ingest", "old", "t")["a"].to_list() == [1]
    assert sorted(p.name for p in (tmp_path / "ds" / "ingest").iterdir()) == ["old"]


def test_replace_swaps_a_complete_artifact_only_after_the_new_one_is_written(tmp_path: Path):
    store = ArtifactStore(tmp_path, "ds")
    with store.write("s", "fp", config={}, inputs={}) as writer:
        writer.write_table("t", pl.DataFrame({"a": [1]}))
    with pytest.raises(ValueError), store.write("s", "fp", config={}, inputs={},
                                                replace=True) as writer:
        raise ValueError("forced run failed")
    assert store.read_table("s", "fp", "t")["a"].to_list() == [1]
    with store.write("s", "fp", config={}, inputs={}, replace=True) as writer:
        writer.write_table("t", pl.DataFrame({"a": [2]}))
    assert store.read_table("s", "fp", "t")["a"].to_list() == [2]
    assert sorted(p.name for p in (tmp_path / "ds" / "s").iterdir()) == ["fp"]


def test_concurrent_writer_of_the_same_fingerprint_does_not_clobber(tmp_path: Path):
    store = ArtifactStore(tmp_path, "ds")
    with store.write("s", "fp", config={}, inputs={}) as first:
        first.write_table("t", pl.DataFrame({"a": [1]}))
        with store.write("s", "fp", config={}, inputs={}) as second:
            second.write_table("t", pl.DataFrame({"a": [2]}))
    assert store.read_table("s", "fp", "t")["a"].to_list() == [2]
    assert json.loads((store.path("s", "fp") / MANIFEST).read_text())["tables"] == {"t": 1}


def test_missing_artifact_error_says_how_to_fix(tmp_path: Path):
    store = ArtifactStore(tmp_path, "ds")
    with pytest.raises(StageInputMissing, match=r"run it first \(sracl run --stage ingest\)"):
        store.read_table("ingest", "nope", "t")
    with store.write("ingest", "fp", config={}, inputs={}) as writer:
        writer.write_table("t", pl.DataFrame({"a": [1]}))
    with pytest.raises(StageInputMissing, match="has no table 'other'"):
        store.read_table("ingest", "fp", "other")


RACING_WRITER = FILE_BARRIER + """
import os, sys
from pathlib import Path
import polars as pl
from sracl_core.artifacts import ArtifactStore

root, barrier, me = sys.argv[1:4]
store = ArtifactStore(root, "ds")
final = store.path("s", "fp")
rename = os.rename


def rename_once_both_have_checked(source, target):
    # both writers have found no artifact before either one publishes
    if Path(target) == final:
        file_barrier(barrier, me, 2)
    rename(source, target)


os.rename = rename_once_both_have_checked
with store.write("s", "fp", config={}, inputs={}) as writer:
    writer.write_table("t", pl.DataFrame({"writer": [me]}))
"""


def test_two_writers_publishing_one_fingerprint_at_once_both_succeed(tmp_path: Path):
    logs = [tmp_path / f"writer{me}.log" for me in (0, 1)]
    writers = [start(RACING_WRITER, tmp_path / "cache", tmp_path / "barrier", me, log=log)
               for me, log in enumerate(logs)]
    outputs = [finish(writer, log) for writer, log in zip(writers, logs, strict=True)]
    assert [writer.returncode for writer in writers] == [0, 0], outputs
    store = ArtifactStore(tmp_path / "cache", "ds")
    assert store.check("s", "fp").state == "cached"
    assert store.read_table("s", "fp", "t")["writer"].to_list() in (["0"], ["1"])
    assert sorted(p.name for p in (tmp_path / "cache" / "ds" / "s").iterdir()) == ["fp"]


def test_a_manifest_names_the_cpu_instruction_set_torch_runs_on(tmp_path):
    import torch

    from sracl_core.artifacts import library_versions

    assert library_versions()["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert library_versions()["cpu_capability"] in {"DEFAULT", "AVX2", "AVX512", "ZVECTOR",
                                                     "VSX", "SVE256", "NO AVX"}
