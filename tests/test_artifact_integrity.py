"""Artifact integrity: manifests record each file's size and checksum, and damage is named."""

import json
from pathlib import Path

import polars as pl
import pytest

from sracl_core.artifacts import MANIFEST, ArtifactStore
from sracl_core.errors import ArtifactCorrupt


def _artifact(tmp_path: Path) -> ArtifactStore:
    store = ArtifactStore(tmp_path, "ds")
    with store.write("s", "fp", config={}, inputs={}) as writer:
        writer.write_table("t", pl.DataFrame({"a": list(range(1000))}))
        writer.path("model").mkdir()
        (writer.path("model") / "weights.bin").write_bytes(b"\0" * 64)
    return store


def test_the_manifest_records_each_files_size_and_checksum(tmp_path: Path):
    store = _artifact(tmp_path)
    files = store.manifest("s", "fp")["files"]
    folder = store.path("s", "fp")
    assert set(files) == {"t.parquet", "model/weights.bin"}
    for name, record in files.items():
        assert record["bytes"] == (folder / name).stat().st_size
        assert len(record["blake2b"]) == 32
    assert store.check("s", "fp").state == "cached"


def test_a_truncated_table_is_corrupt_and_reading_it_names_the_file(tmp_path: Path):
    store = _artifact(tmp_path)
    table = store.path("s", "fp") / "t.parquet"
    table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    verdict = store.check("s", "fp")
    assert verdict.state == "corrupt" and str(table) in verdict.problem
    assert "truncated" in verdict.problem
    with pytest.raises(ArtifactCorrupt, match=rf"{table}: unreadable Parquet .*sracl run"):
        store.read_table("s", "fp", "t")


def test_changed_bytes_of_the_same_size_are_corrupt(tmp_path: Path):
    store = _artifact(tmp_path)
    weights = store.path("s", "fp") / "model" / "weights.bin"
    weights.write_bytes(b"\1" * 64)
    verdict = store.check("s", "fp")
    assert verdict.state == "corrupt" and str(weights) in verdict.problem


def test_a_truncated_manifest_is_corrupt_and_reading_it_names_the_file(tmp_path: Path):
    store = _artifact(tmp_path)
    manifest = store.path("s", "fp") / MANIFEST
    manifest.write_text(manifest.read_text()[:40])
    verdict = store.check("s", "fp")
    assert verdict.state == "corrupt" and str(manifest) in verdict.problem
    with pytest.raises(ArtifactCorrupt, match=rf"{manifest}: not a readable manifest"):
        store.manifest("s", "fp")


def test_a_manifest_from_before_checksums_loads_as_unverified(tmp_path: Path):
    store = _artifact(tmp_path)
    manifest = store.path("s", "fp") / MANIFEST
    old = json.loads(manifest.read_text())
    del old["files"]
    manifest.write_text(json.dumps(old))
    verdict = store.check("s", "fp")
    assert verdict.state == "unverified" and verdict.usable
    assert store.read_table("s", "fp", "t").height == 1000


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda manifest: {"files": {}}, "it has no 'stats' object"),
    (lambda manifest: {**manifest, "files": {}}, "its file list leaves out t"),
    (lambda manifest: {k: v for k, v in manifest.items() if k != "stats"}, "no 'stats' object"),
], ids=["a-bare-file-list", "an-empty-file-list", "no-stats"])
def test_a_manifest_that_vouches_for_nothing_is_corrupt(tmp_path: Path, edit, problem: str):
    """Before, ``{"files": {}}`` passed as a sound artifact, and ``sracl run`` and ``status``
    then failed with a KeyError traceback where they read its stats."""
    store = _artifact(tmp_path)
    manifest = store.path("s", "fp") / MANIFEST
    manifest.write_text(json.dumps(edit(json.loads(manifest.read_text()))))
    verdict = store.check("s", "fp")
    assert verdict.state == "corrupt" and not verdict.usable
    assert verdict.problem.startswith(f"{manifest}: ") and problem in verdict.problem


def test_a_file_where_a_stage_folder_should_be_is_named(tmp_path: Path):
    """Before, ``status`` said missing, ``verify`` sound, and ``run`` failed with a bare
    FileExistsError on an internal path."""
    store = ArtifactStore(tmp_path, "ds")
    stage_folder = tmp_path / "ds" / "s"
    stage_folder.parent.mkdir(parents=True)
    stage_folder.write_text("in the way")
    verdict = store.check("s", "fp")
    assert verdict.state == "corrupt" and verdict.problem.startswith(f"{stage_folder} is a file")
    expected = f"{stage_folder} is a file where a folder of the cache should be; move it away"
    with pytest.raises(ArtifactCorrupt, match=expected), \
            store.write("s", "fp", config={}, inputs={}):
        pass
    assert stage_folder.read_text() == "in the way"
