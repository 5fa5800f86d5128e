"""Stage specs, fingerprints and the cached/missing/corrupt plan for a config."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sracl_core.artifact_integrity import State
from sracl_core.artifacts import ArtifactStore, fingerprint
from sracl_core.config_base import fingerprint_payload

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig


@dataclass(frozen=True)
class StageSpec:
    """One stage: its upstream stages, its code version and the config it depends on.

    Bump ``code_version`` whenever a change to the stage's code changes its
    output, so that old artifacts are not reused by mistake.
    """

    name: str
    inputs: tuple[str, ...] | Callable[[PipelineConfig], tuple[str, ...]]
    code_version: str
    section: Callable[[PipelineConfig], dict[str, Any]]
    runner: str

    def inputs_for(self, config: PipelineConfig) -> tuple[str, ...]:
        """The stages this one reads for this config (train skips the LLM half when unused)."""
        return self.inputs(config) if callable(self.inputs) else self.inputs

    def run_function(self) -> Callable[..., None]:
        module, _, function = self.runner.partition(":")
        return getattr(importlib.import_module(module), function)


def _seeded(section_name: str) -> Callable[[PipelineConfig], dict[str, Any]]:
    """Sections whose output also depends on the global seed."""

    def payload(config: PipelineConfig) -> dict[str, Any]:
        section = fingerprint_payload(getattr(config, section_name))
        # a section with a seed of its own (train.seed) must not have it overwritten
        section["global_seed" if "seed" in section else "seed"] = config.seed
        return section

    return payload


def _section(section_name: str) -> Callable[[PipelineConfig], dict[str, Any]]:
    def payload(config: PipelineConfig) -> dict[str, Any]:
        return fingerprint_payload(getattr(config, section_name))

    return payload


def _profiles_section(config: PipelineConfig) -> dict[str, Any]:
    """Text profiles depend on the prompts alone: the LLM settings do not enter them, so
    editing the model or its sampling re-runs nothing downstream of a text run."""
    from sracl_core.semantic.profiles import json_mode
    from sracl_core.semantic.text_profiles import TEXT_BACKEND

    if config.profiles.backend == TEXT_BACKEND:
        return {"backend": TEXT_BACKEND}
    # 'auto' resolves by device (free text on a CPU vLLM, JSON-schema decoding on a GPU),
    # and the two give different answers: the mode actually used is part of the output.
    return {**fingerprint_payload(config.profiles),
            "json_mode_resolved": json_mode(config.profiles)}


def _neighbours_inputs(config: PipelineConfig) -> tuple[str, ...]:
    """Collaborative neighbours come from the training sequences, not from any text."""
    if config.neighbours.source == "collaborative":
        return ("ingest", "prompts")
    return ("embeddings",)


def _neighbours_section(config: PipelineConfig) -> dict[str, Any]:
    payload = fingerprint_payload(config.neighbours)
    if config.neighbours.source != "collaborative":
        payload.pop("collaborative_dim")
    return payload


def _train_inputs(config: PipelineConfig) -> tuple[str, ...]:
    """Plain backbones need no neighbours; collaborative ones no profiles or embeddings."""
    if not config.train.objective.needs_neighbours:
        return ("ingest",)
    if config.neighbours.source == "collaborative":
        return ("ingest", "prompts", "neighbours")
    return ("ingest", "prompts", "embeddings", "neighbours")


STAGES: dict[str, StageSpec] = {
    spec.name: spec
    for spec in (
        StageSpec("ingest", (), "1", _section("data"), "sracl_core.stages.ingest:run"),
        StageSpec("prompts", ("ingest",), "2", _seeded("prompts"),
                  "sracl_core.stages.prompts:run"),
        StageSpec("profiles", ("prompts",), "1", _profiles_section,
                  "sracl_core.stages.profiles:run"),
        StageSpec("embeddings", ("profiles",), "1", _section("embeddings"),
                  "sracl_core.stages.embeddings:run"),
        StageSpec("neighbours", _neighbours_inputs, "1", _neighbours_section,
                  "sracl_core.stages.neighbours:run"),
        StageSpec("train", _train_inputs, "1", _seeded("train"),
                  "sracl_core.stages.train:run"),
        StageSpec("evaluate", ("ingest", "train"), "1", _section("evaluate"),
                  "sracl_core.stages.evaluate:run"),
    )
}
STAGE_ORDER: tuple[str, ...] = tuple(STAGES)


def stage_fingerprints(config: PipelineConfig) -> dict[str, str]:
    """Every stage's fingerprint, computed from the config alone (nothing is run)."""
    fingerprints: dict[str, str] = {}
    for name in STAGE_ORDER:
        spec = STAGES[name]
        inputs = {upstream: fingerprints[upstream] for upstream in spec.inputs_for(config)}
        fingerprints[name] = fingerprint(name, spec.code_version, spec.section(config), inputs)
    return fingerprints


def downstream_of(stage: str, config: PipelineConfig) -> list[str]:
    """The stage and every stage that reads from it, directly or not, in run order."""
    affected = {stage}
    for name in STAGE_ORDER:
        if any(upstream in affected for upstream in STAGES[name].inputs_for(config)):
            affected.add(name)
    return [name for name in STAGE_ORDER if name in affected]


def upstream_of(stage: str, config: PipelineConfig) -> list[str]:
    """Every stage the given one needs, directly or not, in run order."""
    needed: set[str] = set()
    frontier = list(STAGES[stage].inputs_for(config))
    while frontier:
        name = frontier.pop()
        if name not in needed:
            needed.add(name)
            frontier.extend(STAGES[name].inputs_for(config))
    return [name for name in STAGE_ORDER if name in needed]


@dataclass(frozen=True)
class StageStatus:
    """A stage's artifact for a config: ``state`` is missing, cached, unverified (an old
    manifest without checksums) or corrupt, with ``problem`` naming the damaged file."""

    stage: str
    fingerprint: str
    state: State
    path: str
    problem: str | None = None

    @property
    def complete(self) -> bool:
        return self.state in ("cached", "unverified")


def plan(config: PipelineConfig) -> list[StageStatus]:
    """The state of every stage of this config, each artifact checked against its manifest."""
    store = store_for(config)
    statuses = []
    for name, fp in stage_fingerprints(config).items():
        verdict = store.check(name, fp)
        statuses.append(StageStatus(name, fp, verdict.state, str(store.path(name, fp)),
                                    verdict.problem))
    return statuses


def store_for(config: PipelineConfig) -> ArtifactStore:
    return ArtifactStore(config.cache_root, config.dataset)
