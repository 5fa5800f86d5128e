"""Copy cached work from one cache root to another: artifacts, LLM answers, resume state.

Stages run where they can, and machines do not last: the LLM profiles are made on a
CPU machine with vLLM, training moves to a GPU machine without it, and a machine's
disk may be gone the next day. A transfer carries what one cache holds to another,
so nothing is computed twice. A bundle (what ``sracl cache export`` writes) has a
cache root's layout, so ``cache_root`` can also point at one directly.

Nothing at the destination is overwritten or lost:

- an artifact is checked against its manifest, copied into an owned temporary
  folder, checked again and published like a written one
  (:meth:`~sracl_core.artifacts.ArtifactStore.import_folder`); one already there stays;
- LLM answers are merged by key: one new part file of the answers the destination lacks;
- a half-trained run's resume state is copied only from a run that has ended (its lock
  is free, or it sits in a bundle, where no one writes), and lands as an ended run's
  folder, which the next run of that fingerprint adopts and resumes from. A destination
  that has resume state or the finished artifact for that fingerprint keeps its own;
  a bundle drops a run's resume state once it holds a sound evaluate artifact of that
  run (the results it was kept for).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sracl_core import owned_folders
from sracl_core.artifact_integrity import MANIFEST, cache_artifacts, check_folder, seal_problem
from sracl_core.artifacts import ArtifactStore
from sracl_core.atomic import TEMPORARY_PREFIX, replacing_folder
from sracl_core.errors import ArtifactCorrupt
from sracl_core.rec.run_folders import BEST, CHECKPOINTS, LAST, RUN_PREFIX, last_written
from sracl_core.semantic.cache import FOLDER as ANSWERS
from sracl_core.semantic.cache import ResponseCache


@dataclass(frozen=True)
class ArtifactRef:
    """One stage output: ``<root>/<dataset>/<stage>/<fingerprint>/``."""

    dataset: str
    stage: str
    fingerprint: str

    def __str__(self) -> str:
        return f"{self.dataset}/{self.stage}/{self.fingerprint}"


@dataclass
class TransferReport:
    """What a transfer did, item by item, for the command's summary and for tests."""

    copied: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    not_computed: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    answers: int = 0
    resume_states: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    dropped_resume: list[str] = field(default_factory=list)
    """A bundle's resume states of runs whose evaluate artifact it holds now: obsolete."""


def artifacts_under(root: Path, stages: Iterable[str]) -> list[ArtifactRef]:
    """Every artifact of these stages found under a cache root (or bundle), all datasets."""
    if not Path(root).is_dir():
        return []
    return [ArtifactRef(folder.parents[1].name, folder.parent.name, folder.name)
            for folder in cache_artifacts(Path(root), stages)]


def is_bundle(root: Path) -> bool:
    """Whether ``root`` holds anything a transfer copies: artifacts, LLM answers or resume
    state (a folder one level too deep, or any other folder, holds none of them)."""
    return (any(Path(root).glob(f"*/*/*/{MANIFEST}")) or (Path(root) / ANSWERS).is_dir()
            or bool(resume_states_under(root)))


def resume_states_under(root: Path) -> list[ArtifactRef]:
    """The train fingerprints with resume state under a cache root (or bundle)."""
    return [ArtifactRef(folder.parents[2].name, "train", folder.name)
            for folder in sorted(Path(root).glob(f"*/train/{CHECKPOINTS}/*"))
            if folder.is_dir() and "." not in folder.name  # not a swap's temporary or old copy
            and any(folder.glob(f"{RUN_PREFIX}*"))]


def transfer(source: Path, destination: Path, artifacts: Iterable[ArtifactRef], *,
             answers: bool = True, resume: Iterable[ArtifactRef] = (),
             bundle: bool = False) -> TransferReport:
    """Copy the named artifacts, then (``answers``) the LLM answers, then the resume state
    of the named train runs, from ``source`` to ``destination``; see the module doc.

    ``bundle``: the destination is a bundle, not a cache anyone runs in. Its resume state
    has no owner and is replaced by a newer one; a finished run's old resume state goes.
    """
    source, destination = Path(source), Path(destination)
    report = TransferReport()
    for ref in artifacts:
        folder = ArtifactStore(source, ref.dataset).path(ref.stage, ref.fingerprint)
        if check_folder(folder).state == "missing":
            report.not_computed.append(str(ref))
            continue
        try:
            copied = ArtifactStore(destination, ref.dataset).import_folder(
                ref.stage, ref.fingerprint, folder)
        except ArtifactCorrupt as error:
            report.damaged.append(str(error))
            continue
        (report.copied if copied else report.already_there).append(str(ref))
    if answers and (source / ANSWERS).is_dir():
        report.answers = ResponseCache(destination / ANSWERS).merge_from(source / ANSWERS)
    evaluated = _evaluated_trains(destination) if bundle else set()
    for ref in resume:
        _copy_resume_state(source, destination, ref, report, bundle=bundle,
                           evaluated=evaluated)
    return report


def _checkpoints(root: Path, ref: ArtifactRef) -> tuple[Path, Path]:
    store = ArtifactStore(root, ref.dataset)
    return (store.path("train", ref.fingerprint).parent / CHECKPOINTS / ref.fingerprint,
            store.locks_dir("train") / CHECKPOINTS)


def _copy_resume_state(source: Path, destination: Path, ref: ArtifactRef,
                       report: TransferReport, *, bundle: bool,
                       evaluated: set[tuple[str, str]]) -> None:
    """The furthest ended run's folder of ``ref`` (the newest written), unless the
    destination has the finished artifact or (a cache, not a bundle) resume state of its
    own; a run still going is reported as busy and left alone."""
    target_root, target_locks = _checkpoints(destination, ref)
    if ArtifactStore(destination, ref.dataset).is_complete("train", ref.fingerprint):
        if bundle:
            shutil.rmtree(target_root, ignore_errors=True)
        report.already_there.append(f"{ref} (finished)")
        return
    if bundle and (ref.dataset, ref.fingerprint) in evaluated:
        # the bundle carries the finished run's results: its resume state would only be
        # imported to be thrown away (and a model trained but not yet evaluated keeps it)
        if target_root.is_dir():
            shutil.rmtree(target_root)
            report.dropped_resume.append(str(ref))
        return
    if not bundle and target_root.is_dir() and any(target_root.glob(f"{RUN_PREFIX}*")):
        report.already_there.append(f"{ref} (resume state)")
        return
    source_root, source_locks = _checkpoints(source, ref)
    for candidate in sorted(source_root.glob(f"{RUN_PREFIX}*"), key=last_written,
                            reverse=True):
        owned = owned_folders.owner_record(candidate) is not None
        claimed = owned_folders.claim(candidate, source_locks) if owned else None
        if owned and claimed is None:
            report.busy.append(f"{ref}: {candidate} belongs to a run that is still going")
            continue
        try:
            problem = _resume_problem(candidate)
            if problem is None:
                copied = (_replace_folder(candidate, target_root) if bundle
                          else _adoptable_copy(candidate, target_root, target_locks))
                problem = _resume_problem(copied)
                if problem is not None:  # damaged on the way: the copy goes
                    shutil.rmtree(copied, ignore_errors=True)
        finally:
            if claimed is not None:
                claimed.release()
        if problem is not None:
            report.damaged.append(f"{ref}: resume state not copied: {problem}")
            continue
        report.resume_states.append(str(ref))
        return


def _resume_problem(run_folder: Path) -> str | None:
    """The first damaged file of a run folder's resume state or best model (both sealed)."""
    for part in (LAST, BEST):
        problem = seal_problem(run_folder / part) if (run_folder / part).is_dir() else None
        if problem is not None:
            return problem
    return None


def _evaluated_trains(root: Path) -> set[tuple[str, str]]:
    """(dataset, train fingerprint) of every sound evaluate artifact under ``root``; a
    damaged or unreadable one counts for nothing, so it never costs a run its resume state."""
    if not Path(root).is_dir():
        return set()
    trains = set()
    for folder in cache_artifacts(root, ["evaluate"]):
        if not check_folder(folder).usable:
            continue
        try:
            inputs = json.loads((folder / MANIFEST).read_text()).get("inputs")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(inputs, dict) and isinstance(inputs.get("train"), str):
            trains.add((folder.parents[1].name, inputs["train"]))
    return trains


_SKIP = shutil.ignore_patterns(owned_folders.OWNER_FILE, f"{TEMPORARY_PREFIX}*")


def _adoptable_copy(folder: Path, target_root: Path, target_locks: Path) -> Path:
    """Into a new owned folder, released at the end: an ended run's, ready to be adopted."""
    target = owned_folders.create(
        target_root / f"{RUN_PREFIX}{os.getpid()}-{secrets.token_hex(4)}", target_locks)
    try:
        shutil.copytree(folder, target.path, dirs_exist_ok=True, ignore=_SKIP)
    except BaseException:
        target.remove()
        raise
    target.release()
    return target.path


def _replace_folder(folder: Path, target_root: Path) -> Path:
    """The bundle keeps one resume state per fingerprint: the new one, swapped in whole."""
    with replacing_folder(target_root) as temporary:
        shutil.copytree(folder, temporary / folder.name, ignore=_SKIP)
    return target_root / folder.name
