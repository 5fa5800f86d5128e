"""Checks that run before any work: a bad name or a missing file fails in seconds.

A config validates field by field on load (a wrong backbone, objective, LLM
backend, encoder or data format fails there, with the valid names); what it cannot
know alone is checked here. :func:`check_config` looks at the embedded models and
the input files, and runs before any server starts or any stage computes.
:func:`check_against_data` needs the ingest statistics, so the pipeline calls it
right after ingest and before the LLM stages: a ``neighbours.k`` that the data
cannot satisfy must not cost an hour of profiles first.
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from sracl_core.artifact_integrity import file_in_the_way
from sracl_core.disk_space import check_free_space
from sracl_core.errors import ConfigError
from sracl_core.semantic.model_checks import model_folder_problems, model_name_problems

if TYPE_CHECKING:
    import polars as pl

    from sracl_core.config import PipelineConfig

DOWNLOAD_HINT = (
    "public datasets can be fetched with `sracl data download NAME --dest DIR` "
    "(movielens-100k, movielens-1m, amazon2014-beauty, amazon2014-sports, amazon2014-toys, "
    "amazon2023-<category>), which prints the data.source section to use; or point the key "
    "at your copy with --set {key}=/path"
)


def _source_paths(section: BaseModel, prefix: str) -> list[tuple[str, Path]]:
    """Every path field of the data source, with its dotted key."""
    found = []
    for name in type(section).model_fields:
        value = getattr(section, name)
        if isinstance(value, Path):
            found.append((f"{prefix}.{name}", value))
    return found


def _input_problems(config: PipelineConfig) -> list[str]:
    problems = []
    for key, path in _source_paths(config.data.source, "data.source"):
        if not path.exists():
            problems.append(f"{key}: no such file or folder {path}; "
                            + DOWNLOAD_HINT.format(key=key))
    return problems


def check_cache_root(root: Path, *, writing: bool, key: str = "cache_root") -> None:
    """``cache_root`` is a folder or can become one, and (``writing``, which makes it) this
    process can write there, on a disk with room to start. Checked before anything starts: a
    file in its place, a read-only disk or a full one used to surface as a traceback from the
    first write (the log file)."""
    in_the_way = file_in_the_way(root)
    if in_the_way is not None:
        where = "it is a file" if in_the_way == root else f"{in_the_way} is a file"
        raise ConfigError(f"{key}: expected a folder (or a path where one can be made) "
                          f"for {root}, but {where}; set {key} to a folder")
    if not writing:
        return
    try:  # tried, not asked (os.access): root may write anywhere, yet not on a read-only disk
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as error:
        raise ConfigError(f"{key}: expected a writable folder at {root}, but writing there "
                          f"failed: {error.strerror or error}; set {key} to one that is"
                          ) from None
    check_free_space(root, key)


DEVICE_KEYS = {"embeddings": "embeddings.device", "train": "train.device"}
"""The stages that take a torch device, and the key that names it."""


def check_devices(config: PipelineConfig, source: str | Path, selected: Collection[str],
                  force: bool = False) -> None:
    """The CUDA devices named for the ``selected`` stages that will compute on this machine
    exist here: found at train time, a missing one used to fail a run after its profiles
    (hours of LLM work) had been made. Cached stages need none (``force``: none is cached),
    and a grid on a Ray cluster trains on other machines, so callers pass only what runs
    here. Only a ``cuda`` setting costs anything (the store's look at those stages)."""
    asked = {stage: (key, _setting(config, key)) for stage, key in DEVICE_KEYS.items()
             if stage in selected}
    asked = {stage: (key, value) for stage, (key, value) in asked.items()
             if value and value.startswith("cuda")}
    if not asked:
        return
    import torch

    from sracl_core.stages.graph import to_compute

    computing = to_compute(config, list(asked), force)
    count = torch.cuda.device_count()  # through NVML: no CUDA context in this process
    _raise_problems(source, [
        f"{key}: expected a device this machine has, got {value!r}: torch {torch.__version__} "
        f"sees {count} CUDA device(s); auto takes cuda when present, else cpu"
        for stage, (key, value) in asked.items()
        if stage in computing and int(value.partition(":")[2] or 0) >= count])


def check_machine(config: PipelineConfig, source: str | Path, selected: Collection[str],
                  force: bool = False) -> None:
    """What the ``selected`` stages that compute here need of this machine: the devices
    they name and the model folders they load."""
    check_devices(config, source, selected, force)
    check_models(config, source, selected, force)


def check_models(config: PipelineConfig, source: str | Path, selected: Collection[str],
                 force: bool = False) -> None:
    """The model folders the ``selected`` stages that compute here will load exist, and fit
    their settings; found at load, a missing one failed 20-50 s into a run, naming no key."""
    found = {stage: problems for stage in ("profiles", "embeddings") if stage in selected
             and (problems := model_folder_problems(config, [stage]))}
    if not found:
        return  # the usual case, decided without checksumming any artifact
    from sracl_core.stages.graph import to_compute

    _raise_problems(source, [problem for stage in to_compute(config, list(found), force)
                             for problem in found[stage]])


def _setting(config: PipelineConfig, key: str) -> str | None:
    section, name = key.split(".")
    return getattr(getattr(config, section), name, None)  # not every encoder has a device


def check_config(config: PipelineConfig, source: str | Path) -> None:
    """Every problem found, in one error that names each key and what it expects."""
    _raise_problems(source, model_name_problems(config) + _input_problems(config))


def _raise_problems(source: str | Path, problems: list[str]) -> None:
    if len(problems) == 1:
        raise ConfigError(f"{source}: {problems[0]}")
    if problems:
        raise ConfigError(f"{source}: {len(problems)} problems:\n  " + "\n  ".join(problems))


def searched_rows(config: PipelineConfig, stats: dict, samples: pl.DataFrame | None
                  ) -> dict[str, int]:
    """How many item and user-profile vectors the neighbours stage indexes (user profiles
    only when known: one per user, or one per training sample at prefix granularity)."""
    rows = {"items": int(stats["n_items"])}
    if config.prompts.granularity == "user":
        rows["user profiles"] = int(stats["n_users"])
    elif samples is not None:
        rows["user profiles"] = samples.height
    return rows


def neighbour_candidates(config: PipelineConfig, stats: dict, samples: pl.DataFrame | None
                         ) -> dict[str, int]:
    """How many other rows each item and user profile can take neighbours from: all rows but
    itself, and at prefix granularity with ``exclude_same_user`` but its user's largest set."""
    excluded = {"items": 1, "user profiles": 1}
    if samples is not None and config.prompts.granularity != "user" \
            and config.neighbours.exclude_same_user:
        excluded["user profiles"] = int(samples.group_by("user").len()["len"].max())
    return {what: rows - excluded[what]
            for what, rows in searched_rows(config, stats, samples).items()}


def check_against_data(config: PipelineConfig, stats: dict,
                       samples: pl.DataFrame | None = None) -> None:
    """Settings that must fit the ingested data; raised before any LLM work."""
    if not config.train.objective.needs_neighbours:
        return
    k = config.neighbours.k
    for what, available in neighbour_candidates(config, stats, samples).items():
        if available < 1:  # no k fits, so suggesting one (k=1) would send the user round
            raise ConfigError(
                f"train.objective: {config.train.objective.name} needs semantic neighbours, "
                f"but {config.dataset} has no candidate {what} per row after ingest; expected "
                f"data with more of them, or --set train.objective=next_item (no neighbours)")
        if k > available:
            raise ConfigError(
                f"neighbours.k: {k} neighbours asked for, but {config.dataset} has only "
                f"{available} candidate {what} per row after ingest; expected at most "
                f"{available} (--set neighbours.k={max(available, 1)})")
    if config.neighbours.index in ("ivf", "ivfpq"):
        _check_index_training(config, stats, samples)


def _check_index_training(config: PipelineConfig, stats: dict,
                          samples: pl.DataFrame | None) -> None:
    """An ivf index trains its clusters, and ivfpq also 2**pq_bits codes per sub-quantiser, on
    a sample of the vectors it indexes; a sample smaller than that stopped the neighbours
    stage, after the profiles, with a FAISS C++ assertion naming no setting."""
    from sracl_core.semantic.neighbours import ivf_lists

    settings = config.neighbours
    codes = 2 ** settings.pq_bits if settings.index == "ivfpq" else 0
    for what, count in searched_rows(config, stats, samples).items():
        if count < codes:
            raise ConfigError(
                f"neighbours.index: ivfpq trains {codes} codes (neighbours.pq_bits="
                f"{settings.pq_bits}) on the vectors it indexes, but {config.dataset} has only "
                f"{count} {what} after ingest; expected at least {codes}, or "
                f"--set neighbours.index=flat (exact) for data this small")
        needed = max(ivf_lists(count, settings), codes)
        if settings.train_points and settings.train_points < min(needed, count):
            raise ConfigError(
                f"neighbours.train_points: {settings.index} trains on {settings.train_points} "
                f"of the {count} {what}, but needs at least {needed} (its clusters"
                f"{' and codes' if codes else ''}); expected at least {needed}, or 0: all")


def check_ingested(config: PipelineConfig, stages: Collection[str] | None = None) -> None:
    """:func:`check_against_data` from the ingest artifact, when this config has a sound one
    (a damaged one is left to ``sracl run``, which moves it aside and computes it again).

    ``stages``: the stages about to run, when known; the settings checked only matter to
    the neighbours stage, so a run that does not compute it (``--until ingest``) is not
    stopped by them.
    """
    from sracl_core.stages.graph import outputs_of

    if stages is not None and "neighbours" not in stages:
        return
    outputs = outputs_of(config)
    if not outputs.store.check("ingest", outputs.fingerprint("ingest")).usable:
        return
    samples = None
    if config.prompts.granularity == "prefix":
        samples = outputs.table("ingest", "train_samples").select("user")
    check_against_data(config, (outputs.manifest("ingest") or {})["stats"], samples)
