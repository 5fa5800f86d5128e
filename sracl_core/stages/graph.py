"""The DAG of the stages' declarations: fingerprints, dependency walks, and the
cached/missing/corrupt plan for a config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sracl_core.artifact_integrity import State
from sracl_core.artifacts import ArtifactStore, fingerprint
from sracl_core.errors import ConfigError, StageInputMissing
from sracl_core.registry import load_plugins
from sracl_core.stages import (
    embeddings,
    evaluate,
    ingest,
    neighbours,
    profiles,
    prompts,
    train,
)
from sracl_core.stages.outputs import StageOutputs
from sracl_core.stages.stage import Stage

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig


STAGES: dict[str, Stage] = {}
"""Every stage in run order, each declared in its own module."""
STAGE_ORDER: list[str] = []
"""The stages' names in run order (a live list: :func:`add_stage` extends it)."""


def add_stage(stage: Stage) -> None:
    """Put a stage into the DAG, after the stages it reads.

    The built-in stages are added below; a stage of a plug-in (one module ending in
    ``STAGE = Stage(...)``, imported through an ``sracl.plugins`` entry point or before
    the run) calls this, and is then planned, fingerprinted, run, cached and tracked like
    the others: ``sracl run --stage NAME``.
    """
    if stage.name in STAGES:
        raise ValueError(f"stage {stage.name!r} is declared twice")
    unknown = [name for name in (stage.inputs if isinstance(stage.inputs, tuple) else ())
               if name not in STAGES]
    if unknown:
        raise ValueError(f"stage {stage.name!r} reads {', '.join(unknown)}, which come after "
                         f"it or do not exist; stages so far: {', '.join(STAGE_ORDER)}")
    STAGES[stage.name] = stage
    STAGE_ORDER.append(stage.name)


for _module in (ingest, prompts, profiles, embeddings, neighbours, train, evaluate):
    add_stage(_module.STAGE)


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


def select_stages(config: PipelineConfig, stage: str | None = None, *,
                  downstream: bool = False, until: str | None = None) -> list[str]:
    """The stages a command line asks for, in run order.

    No stage: the whole pipeline (or up to ``until``). One stage: just it, or
    it and everything after it with ``downstream``.
    """
    if stage is None:
        stages = needed_stages(config)
    elif downstream:
        stages = downstream_of(stage, config)
    else:
        stages = [stage]
    if until is not None:
        stages = [name for name in stages if STAGE_ORDER.index(name) <= STAGE_ORDER.index(until)]
    return stages


def check_selection(config: PipelineConfig, stage: str | None = None, *,
                    downstream: bool = False, until: str | None = None) -> list[str]:
    """:func:`select_stages`, refused before anything starts when it selects nothing, or
    when a selected stage reads from one that is neither selected nor cached (the flow
    would find that out only after its orchestrator had started)."""
    stages = select_stages(config, stage, downstream=downstream, until=until)
    if not stages:
        raise ConfigError(f"--until {until} comes before --stage {stage}: nothing would run; "
                          f"expected an --until at or after {stage}, or no --until")
    if stage is None:
        return stages
    store, fingerprints = store_for(config), stage_fingerprints(config)
    for name in stages:
        for upstream in STAGES[name].inputs_for(config):
            if upstream not in stages and not store.check(upstream, fingerprints[upstream]).usable:
                raise StageInputMissing(
                    f"stage {name!r} reads from stage {upstream!r}, which has no complete "
                    f"artifact {fingerprints[upstream]} under "
                    f"{store.path(upstream, fingerprints[upstream]).parent}; run it first "
                    f"(sracl run --until {upstream})")
    return stages


def needed_stages(config: PipelineConfig) -> list[str]:
    """The stages a full run computes: evaluate and everything it needs for this config."""
    return [*upstream_of("evaluate", config), "evaluate"]


def to_compute(config: PipelineConfig, stages: list[str], force: bool = False) -> list[str]:
    """Those of ``stages`` that a run would compute: all with ``force``, else the ones
    without a usable artifact."""
    if force:
        return list(stages)
    store, fingerprints = store_for(config), stage_fingerprints(config)
    return [name for name in stages if not store.check(name, fingerprints[name]).usable]


def plan(config: PipelineConfig) -> list[StageStatus]:
    """The state of every stage of this config, each artifact checked against its manifest."""
    store = store_for(config)
    statuses = []
    for name, fp in stage_fingerprints(config).items():
        verdict = store.check(name, fp)
        statuses.append(StageStatus(name, fp, verdict.state, str(store.path(name, fp)),
                                    verdict.problem))
    return statuses


def outputs_of(config: PipelineConfig) -> StageOutputs:
    """Every stage's artifact for this config (whether computed yet or not)."""
    return StageOutputs(store_for(config), stage_fingerprints(config), declared_tables())


def declared_tables() -> dict[str, tuple[str, ...]]:
    """Each stage's declared output tables."""
    return {name: tuple(stage.tables) for name, stage in STAGES.items()}


def store_for(config: PipelineConfig) -> ArtifactStore:
    return ArtifactStore(config.cache_root, config.dataset)


load_plugins()  # a plug-in's stages join the DAG before anything plans with it
