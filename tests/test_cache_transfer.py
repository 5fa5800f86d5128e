"""Cached work copied between cache roots: artifacts checked on the way, answers merged by
key, resume state handed over only from ended runs, and nothing at the destination lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from sracl_core import owned_folders
from sracl_core.artifact_integrity import MANIFEST, check_folder, seal
from sracl_core.artifacts import ArtifactStore
from sracl_core.cache_transfer import (
    ArtifactRef,
    artifacts_under,
    resume_states_under,
    transfer,
)
from sracl_core.rec.run_folders import CHECKPOINTS, run_folder
from sracl_core.semantic.cache import OK, CachedResponse, ResponseCache


def _artifact(root: Path, fingerprint: str, values: list[int], stage: str = "train"
              ) -> ArtifactRef:
    with ArtifactStore(root, "ds").write(stage, fingerprint, config={}, inputs={}) as writer:
        writer.write_table("t", pl.DataFrame({"a": values}))
    return ArtifactRef("ds", stage, fingerprint)


def _table(root: Path, ref: ArtifactRef) -> list[int]:
    return ArtifactStore(root, "ds").read_table(ref.stage, ref.fingerprint, "t")["a"].to_list()


def test_artifacts_round_trip_through_a_bundle_and_a_second_import_changes_nothing(
        tmp_path: Path):
    source, bundle, destination = tmp_path / "a", tmp_path / "bundle", tmp_path / "c"
    refs = [_artifact(source, "fp1", [1, 2]), _artifact(source, "fp2", [3], stage="evaluate")]
    missing = ArtifactRef("ds", "train", "never-computed")
    exported = transfer(source, bundle, [*refs, missing], bundle=True)
    assert exported.copied == [str(ref) for ref in refs]
    assert exported.not_computed == [str(missing)]
    assert sorted(artifacts_under(bundle, ["train", "evaluate"]), key=str) == sorted(refs, key=str)

    imported = transfer(bundle, destination, artifacts_under(bundle, ["train", "evaluate"]))
    assert sorted(imported.copied) == sorted(str(ref) for ref in refs)
    assert [_table(destination, ref) for ref in refs] == [[1, 2], [3]]
    assert all(check_folder(ArtifactStore(destination, "ds").path(r.stage, r.fingerprint)).state
               == "cached" for r in refs)
    manifest = ArtifactStore(destination, "ds").path("train", "fp1") / MANIFEST
    written = manifest.stat().st_mtime_ns
    again = transfer(bundle, destination, refs)
    assert again.copied == [] and sorted(again.already_there) == sorted(map(str, refs))
    assert manifest.stat().st_mtime_ns == written
    assert not list((destination / "ds" / "train").glob(".tmp-*"))


def test_a_damaged_source_artifact_is_named_and_not_copied(tmp_path: Path):
    source, destination = tmp_path / "a", tmp_path / "c"
    ref = _artifact(source, "fp1", list(range(100)))
    table = ArtifactStore(source, "ds").path("train", "fp1") / "t.parquet"
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0xFF
    table.write_bytes(bytes(data))
    report = transfer(source, destination, [ref])
    assert report.copied == [] and len(report.damaged) == 1
    assert str(table) in report.damaged[0] and "checksum" in report.damaged[0]
    assert not ArtifactStore(destination, "ds").path("train", "fp1").exists()
    assert not list((destination / "ds" / "train").glob(".tmp-*"))


def test_the_destinations_own_artifact_is_kept(tmp_path: Path):
    source, destination = tmp_path / "a", tmp_path / "c"
    ref = _artifact(source, "fp1", [1])
    _artifact(destination, "fp1", [9])
    report = transfer(source, destination, [ref])
    assert report.already_there == [str(ref)]
    assert _table(destination, ref) == [9]


def test_a_damaged_copy_at_the_destination_is_replaced_and_kept_aside(tmp_path: Path):
    """Before, the damaged copy was reported as "already there" and stayed damaged."""
    source, destination = tmp_path / "a", tmp_path / "c"
    ref = _artifact(source, "fp1", [1, 2])
    _artifact(destination, "fp1", [1, 2])
    table = ArtifactStore(destination, "ds").path("train", "fp1") / "t.parquet"
    table.write_bytes(table.read_bytes()[:10])
    report = transfer(source, destination, [ref])
    assert report.copied == [str(ref)] and report.already_there == []
    assert _table(destination, ref) == [1, 2]
    (aside,) = (destination / "ds" / "train" / ".corrupt").iterdir()
    assert aside.name.startswith("fp1-") and (aside / "t.parquet").stat().st_size == 10


def test_a_folder_renamed_to_pass_for_another_artifact_is_refused(tmp_path: Path):
    """A bundle's folder renamed to another config's fingerprint: its manifest says what it
    is, so it is neither imported nor, already in a cache, trusted as that artifact."""
    source, destination = tmp_path / "a", tmp_path / "c"
    _artifact(source, "fp1", [1])
    store = ArtifactStore(source, "ds")
    store.path("train", "fp1").rename(store.path("train", "fp2"))
    report = transfer(source, destination, [ArtifactRef("ds", "train", "fp2")])
    assert report.copied == [] and len(report.damaged) == 1
    assert "the manifest is of another artifact: fingerprint 'fp1' (expected 'fp2')" \
        in report.damaged[0]
    verdict = store.check("train", "fp2")
    assert verdict.state == "corrupt" and "fingerprint 'fp1'" in verdict.problem


def _answer(key: str, text: str | None, status: str = OK) -> CachedResponse:
    return CachedResponse(key=key, status=status, text=text, error=None if text else "boom")


def test_answers_merge_by_key_keeping_the_destinations_and_skipping_failures(tmp_path: Path):
    source, destination = tmp_path / "a" / "llm_cache", tmp_path / "c" / "llm_cache"
    ResponseCache(source).put([_answer("k1", "one"), _answer("k2", "two"),
                               _answer("k3", None, status="error")])
    ResponseCache(source).put([_answer("k4", "four")])
    ResponseCache(destination).put([_answer("k2", "mine")])
    report = transfer(tmp_path / "a", tmp_path / "c", [])
    assert report.answers == 2  # k1 and k4: k2 is the destination's, k3 failed
    merged = ResponseCache(destination)
    assert [merged.get(key) for key in ("k1", "k2", "k3", "k4")] == ["one", "mine", None, "four"]
    assert len(list(destination.glob("part-*.parquet"))) == 2  # its own part, and one new
    assert transfer(tmp_path / "a", tmp_path / "c", []).answers == 0


def _ended_run(root: Path, fingerprint: str, epoch: int) -> Path:
    """A run folder like a killed train run leaves: resume state in ``last``, lock free."""
    checkpoints = root / "ds" / "train" / CHECKPOINTS
    locks = ArtifactStore(root, "ds").locks_dir("train") / CHECKPOINTS
    with run_folder(checkpoints / fingerprint, locks) as folder:
        (folder / "last").mkdir(exist_ok=True)
        (folder / "last" / "progress.json").write_text(f'{{"epoch": {epoch}}}')
    return folder


def _adopted_epoch(root: Path, fingerprint: str) -> str:
    checkpoints = root / "ds" / "train" / CHECKPOINTS
    locks = ArtifactStore(root, "ds").locks_dir("train") / CHECKPOINTS
    with run_folder(checkpoints / fingerprint, locks) as folder:
        return (folder / "last" / "progress.json").read_text()


def test_resume_state_travels_through_a_bundle_and_is_adopted_by_the_next_run(tmp_path: Path):
    source, bundle, destination = tmp_path / "a", tmp_path / "bundle", tmp_path / "c"
    ref = ArtifactRef("ds", "train", "fp1")
    _ended_run(source, "fp1", epoch=3)
    assert transfer(source, bundle, [], resume=[ref], bundle=True).resume_states == [str(ref)]
    in_bundle = list((bundle / "ds" / "train" / CHECKPOINTS / "fp1").iterdir())
    assert len(in_bundle) == 1 and not (in_bundle[0] / owned_folders.OWNER_FILE).exists()
    assert resume_states_under(bundle) == [ref]

    assert transfer(bundle, destination, [], resume=resume_states_under(bundle)
                    ).resume_states == [str(ref)]
    assert _adopted_epoch(destination, "fp1") == '{"epoch": 3}'
    report = transfer(bundle, destination, [], resume=[ref])
    assert report.resume_states == [] and report.already_there == [f"{ref} (resume state)"]


def test_a_damaged_resume_state_is_named_and_not_copied(tmp_path: Path):
    """A bit flipped in a bundle's checkpoint resumed silently and published wrong numbers
    under the right fingerprint; the seal written with every checkpoint refuses it."""
    bundle, destination = tmp_path / "bundle", tmp_path / "c"
    ref = ArtifactRef("ds", "train", "fp1")
    folder = _ended_run(tmp_path / "a", "fp1", epoch=3)
    seal(folder / "last")
    transfer(tmp_path / "a", bundle, [], resume=[ref], bundle=True)
    (progress,) = bundle.glob("ds/train/.checkpoints/fp1/run-*/last/progress.json")
    progress.write_text('{"epoch": 4}')  # the same size, other bytes
    report = transfer(bundle, destination, [], resume=[ref])
    assert report.resume_states == []
    assert report.damaged == [f"{ref}: resume state not copied: {progress}: its content does "
                              "not match the blake2b checksum in checksums.json"]
    assert not (destination / "ds" / "train" / CHECKPOINTS / "fp1").exists() or not any(
        (destination / "ds" / "train" / CHECKPOINTS / "fp1").glob("run-*"))


def test_a_bundle_keeps_the_newest_resume_state_and_drops_it_once_the_run_finished(
        tmp_path: Path):
    source, bundle = tmp_path / "a", tmp_path / "bundle"
    ref = ArtifactRef("ds", "train", "fp1")
    first = _ended_run(source, "fp1", epoch=3)
    transfer(source, bundle, [], resume=[ref], bundle=True)
    shutil.rmtree(first)
    _ended_run(source, "fp1", epoch=7)
    transfer(source, bundle, [], resume=[ref], bundle=True)
    copies = list((bundle / "ds" / "train" / CHECKPOINTS / "fp1").glob("run-*"))
    assert [(c / "last" / "progress.json").read_text() for c in copies] == ['{"epoch": 7}']

    _artifact(source, "fp1", [1])
    transfer(source, bundle, [ref], resume=[ref], bundle=True)
    assert not (bundle / "ds" / "train" / CHECKPOINTS / "fp1").exists()
    assert resume_states_under(bundle) == []


def test_a_bundles_resume_state_goes_once_it_holds_the_runs_evaluate_artifact(tmp_path: Path):
    """The usual export keeps evaluate artifacts and resume state, not train artifacts, so
    the bundle never holds the finished train run that would make its resume state
    obsolete; its evaluate artifact does. A run trained but not yet evaluated keeps it."""
    source, bundle = tmp_path / "a", tmp_path / "bundle"
    ref, other = ArtifactRef("ds", "train", "fp1"), ArtifactRef("ds", "train", "fp2")
    _ended_run(source, "fp1", epoch=3)
    _ended_run(source, "fp2", epoch=5)
    transfer(source, bundle, [], resume=[ref, other], bundle=True)
    _artifact(source, "fp1", [1])  # both finished training, only fp1 was evaluated
    _artifact(source, "fp2", [2])
    with ArtifactStore(source, "ds").write("evaluate", "ev1", config={},
                                          inputs={"train": "fp1"}) as writer:
        writer.write_table("t", pl.DataFrame({"a": [1]}))
    evaluated = ArtifactRef("ds", "evaluate", "ev1")
    report = transfer(source, bundle, [evaluated], resume=[ref, other], bundle=True)
    assert report.dropped_resume == [str(ref)] and report.resume_states == [str(other)]
    assert resume_states_under(bundle) == [other]
    again = transfer(source, bundle, [], resume=[ref], bundle=True)
    assert again.dropped_resume == [] and again.resume_states == []


@pytest.mark.parametrize("damage", ["checksum", "temporary", "no-inputs"])
def test_an_unsound_evaluate_artifact_costs_no_run_its_resume_state(tmp_path: Path,
                                                                    damage: str):
    source, bundle = tmp_path / "a", tmp_path / "bundle"
    ref = ArtifactRef("ds", "train", "fp1")
    _ended_run(source, "fp1", epoch=3)
    transfer(source, bundle, [], resume=[ref], bundle=True)
    with ArtifactStore(bundle, "ds").write("evaluate", "ev1", config={},
                                          inputs={"train": "fp1"}) as writer:
        writer.write_table("t", pl.DataFrame({"a": [1]}))
    folder = ArtifactStore(bundle, "ds").path("evaluate", "ev1")
    if damage == "checksum":
        (folder / "t.parquet").write_bytes(b"not the table")
    elif damage == "temporary":  # what a killed export leaves: a hidden folder
        folder.rename(folder.parent / ".tmp-ev1-1-abc")
    else:
        manifest = json.loads((folder / MANIFEST).read_text())
        (folder / MANIFEST).write_text(json.dumps({**manifest, "inputs": None}))
    report = transfer(source, bundle, [], resume=[ref], bundle=True)
    assert report.dropped_resume == [] and resume_states_under(bundle) == [ref]


def test_a_running_trains_resume_state_is_left_alone(tmp_path: Path):
    source, destination = tmp_path / "a", tmp_path / "c"
    locks = ArtifactStore(source, "ds").locks_dir("train") / CHECKPOINTS
    live = owned_folders.create(source / "ds" / "train" / CHECKPOINTS / "fp1" / "run-live", locks)
    try:
        report = transfer(source, destination, [], resume=[ArtifactRef("ds", "train", "fp1")])
    finally:
        live.release()
    assert report.resume_states == [] and "still going" in report.busy[0]
    assert not (destination / "ds" / "train" / CHECKPOINTS / "fp1").exists()


@pytest.mark.parametrize("bundle", [False, True])
def test_no_resume_state_is_copied_for_a_run_finished_at_the_destination(tmp_path: Path,
                                                                         bundle: bool):
    source, destination = tmp_path / "a", tmp_path / "c"
    _ended_run(source, "fp1", epoch=3)
    _artifact(destination, "fp1", [1])
    report = transfer(source, destination, [], resume=[ArtifactRef("ds", "train", "fp1")],
                      bundle=bundle)
    assert report.resume_states == [] and report.already_there == ["ds/train/fp1 (finished)"]
    assert not (destination / "ds" / "train" / CHECKPOINTS).exists()
