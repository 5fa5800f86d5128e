"""``sracl cache export`` / ``import``: carry cached work to another machine or keep it.

A bundle is a folder with a cache root's layout, holding the selected artifacts, the
LLM answers and (with ``--resume``) the resume state of unfinished train runs. The
typical trip: make the LLM profiles and neighbours on a CPU machine, export them, train
on a GPU machine after ``import``, bring the trained runs back the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli_common import DEFAULT_CONFIG, ConfigOption, OverrideOption, console, fail, load
from sracl_core.cache_transfer import (
    ArtifactRef,
    TransferReport,
    artifacts_under,
    is_bundle,
    resume_states_under,
    transfer,
)
from sracl_core.config import PipelineConfig, load_config
from sracl_core.errors import ConfigError, SraclError
from sracl_core.preflight import check_cache_root
from sracl_core.stages.graph import STAGE_ORDER, needed_stages, stage_fingerprints

cache_app = typer.Typer(help="Move cached work between cache roots: export a bundle, import "
                        "one.", no_args_is_help=True)

ResumeOption = Annotated[bool, typer.Option(
    "--resume/--no-resume", help="also the resume state (checkpoints) of unfinished train runs")]


def _configs(config: Path, overrides: list[str], grid: Path | None) -> list[PipelineConfig]:
    if grid is None:
        return [load(config, overrides)]
    from sracl_core.experiment.grid import grid_runs, load_grid

    return [load_config(config, list(run.overrides))
            for run in grid_runs(load_grid(grid), overrides)]


def selected(configs: list[PipelineConfig], stages: list[str] | None) -> list[ArtifactRef]:
    """Each config's artifacts of the given stages (default: all it needs), each once."""
    unknown = [name for name in stages or [] if name not in STAGE_ORDER]
    if unknown:
        raise ConfigError(f"--stage {', '.join(unknown)}: no such stage; stages: "
                          f"{', '.join(STAGE_ORDER)}")
    refs: dict[ArtifactRef, None] = {}
    for resolved in configs:
        fingerprints = stage_fingerprints(resolved)
        for name in stages or needed_stages(resolved):
            refs[ArtifactRef(resolved.dataset, name, fingerprints[name])] = None
    return list(refs)


def without_bundled(refs: list[ArtifactRef], bundles: list[Path]) -> list[ArtifactRef]:
    """``refs`` less those any of ``bundles`` holds (a missing bundle is an error: a typo
    would otherwise copy everything the user meant to leave out)."""
    held: set[ArtifactRef] = set()
    for other in bundles:
        if not is_bundle(other):
            raise ConfigError(f"--not-in {other}: not a bundle (no artifacts, answers or "
                              "resume state there)")
        held |= set(artifacts_under(other, STAGE_ORDER))
    return [ref for ref in refs if ref not in held]


def _print(report: TransferReport, destination: Path) -> None:
    console.print(
        f"{destination}: {len(report.copied)} artifacts copied, {len(report.already_there)} "
        f"already there, {len(report.not_computed)} not computed at the source; "
        f"{report.answers} LLM answers added; resume state of {len(report.resume_states)} "
        "train runs", highlight=False, soft_wrap=True)
    for line in report.not_computed:
        console.print(f"[yellow]not computed:[/] {line}", highlight=False, soft_wrap=True)
    for line in report.busy:
        console.print(f"[yellow]skipped:[/] {line}", highlight=False, soft_wrap=True)
    for line in report.dropped_resume:
        console.print(f"dropped: the resume state of {line}, finished since", highlight=False,
                      soft_wrap=True)
    for line in report.damaged:
        console.print(f"[bold red]damaged, not copied:[/] {line}", highlight=False,
                      soft_wrap=True)
    if report.damaged:
        raise typer.Exit(code=1)


@cache_app.command("export")
def export(
    bundle: Annotated[Path, typer.Argument(help="folder to write (created, or updated)")],
    config: ConfigOption = DEFAULT_CONFIG,
    overrides: OverrideOption = None,
    grid: Annotated[Path | None, typer.Option(
        help="export every run of this experiment grid instead of one config")] = None,
    stage: Annotated[list[str] | None, typer.Option(
        help="only these stages (repeatable); default: every stage the config needs")] = None,
    resume: ResumeOption = False,
    not_in: Annotated[list[Path] | None, typer.Option(
        "--not-in", help="skip the artifacts this other bundle holds (repeatable): two "
                         "bundles of grids that share runs keep each run once")] = None,
    answers: Annotated[bool, typer.Option(
        "--answers/--no-answers", help="the LLM response cache too")] = True,
    artifacts: Annotated[bool, typer.Option(
        "--artifacts/--no-artifacts",
        help="the stages' artifacts; --no-artifacts keeps a bundle to the LLM answers (and "
             "--resume state), which is all a machine needs to skip the LLM")] = True,
) -> None:
    """Copy the config's (or grid's) artifacts from its cache root into a bundle folder,
    each checked against its manifest; what the bundle has already is kept."""
    try:
        configs = _configs(config, list(overrides or []), grid)
        refs = without_bundled(selected(configs, stage), not_in or [])
        if not (artifacts or answers or resume):
            raise ConfigError("--no-artifacts --no-answers without --resume: nothing to export")
        source = configs[0].cache_root
        if not source.is_dir():
            raise ConfigError(f"cache_root: no cache at {source} to export from (check the "
                              "config and its --set cache_root)")
        check_cache_root(bundle, writing=True, key="bundle")
    except SraclError as error:
        fail(error)
    trains = [ref for ref in refs if ref.stage == "train"] if resume else []
    report = transfer(configs[0].cache_root, bundle, refs if artifacts else [], answers=answers,
                      resume=trains, bundle=True)
    _print(report, bundle)


@cache_app.command("import")
def import_(
    bundle: Annotated[Path, typer.Argument(help="a bundle, or another cache root")],
    config: ConfigOption = DEFAULT_CONFIG,
    overrides: OverrideOption = None,
    resume: ResumeOption = True,
) -> None:
    """Copy everything in a bundle into the config's cache root: artifacts (checked against
    their manifests), LLM answers, and the resume state the next run picks up."""
    if not bundle.is_dir():
        what = "a file" if bundle.exists() else "no such folder"
        fail(ConfigError(f"{bundle}: {what}; expected a bundle folder from `sracl cache export`"))
    if not is_bundle(bundle):
        fail(ConfigError(f"{bundle}: not a bundle or cache root: it holds no "
                         "<dataset>/<stage>/<fingerprint>/manifest.json, LLM answers or resume "
                         "state (a bundle is the folder `sracl cache export` wrote)"))
    resolved = load(config, overrides)
    root = resolved.cache_root
    try:
        check_cache_root(root, writing=True)
    except ConfigError as error:
        fail(error)
    artifacts = artifacts_under(bundle, STAGE_ORDER)
    report = transfer(bundle, root, artifacts,
                      resume=resume_states_under(bundle) if resume else ())
    others = sorted({ref.dataset for ref in artifacts} - {resolved.dataset})
    if artifacts and len(others) == len({ref.dataset for ref in artifacts}):
        console.print(f"[yellow]note:[/] none of the bundle's artifacts are for dataset "
                      f"'{resolved.dataset}' of {config} (they are for {', '.join(others)}): "
                      "runs of this config will not find them; was it exported with another "
                      "config?", highlight=False, soft_wrap=True)
    _print(report, root)
