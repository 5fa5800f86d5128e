"""``sracl experiment``: a grid of variants x seeds, each a tracked pipeline run, then one table.

Every run is the pipeline flow (a Prefect subflow, one MLflow run in the grid's
experiment, tagged with its variant and seed), so the cache shares every
upstream stage between runs and a killed grid continues where it stopped:
a half-trained run resumes from its checkpoint, and a finished one (its evaluate
artifact is usable) is not run again. A finished run reads no upstream artifact,
so a grid continued on another machine from a bundle of its evaluate artifacts
(``sracl cache export --grid``) recomputes nothing for it.

With ``jobs`` > 1 the stages before train run first, one run at a time, so that
no two runs compute the same artifact; then the train and evaluate stages run
``jobs`` at a time, each in a process of its own (:mod:`flows.grid_processes`) with
``threads`` torch threads (two one-thread runs on a 2-core machine; a GPU takes
several at once).

With ``runner="ray"`` those train-and-evaluate runs are Prefect tasks on
prefect-ray's ``RayTaskRunner`` instead of processes here: each reserves
``threads`` CPUs (and ``1/jobs`` of a GPU where the cluster has GPUs), so Ray runs
as many at once as its nodes hold, and retries a run whose worker died (it
resumes from its checkpoint). Every node needs the project installed and the
cache and MLflow store at the same paths (a shared filesystem); the MLflow run
of each names the host and process that ran it (``sracl.worker``).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, task

from flows.grid_processes import run_in_processes
from flows.pipeline import pipeline_flow
from sracl_core.config import load_config
from sracl_core.errors import ConfigError, GridRunsFailed, TrackingLost
from sracl_core.experiment.aggregate import (
    RUN_SCHEMA,
    markdown_table,
    mean_minutes,
    per_seed_table,
    summarise,
)
from sracl_core.experiment.grid import RUNNERS, GridRun, grid_runs, load_grid, select_variants
from sracl_core.experiment.results import (
    is_finished,
    results_folder,
    run_figures,
    write_results,
)
from sracl_core.experiment.tracking import TAG_EXPERIMENT, log_summary
from sracl_core.preflight import check_config, check_machine
from sracl_core.stages.graph import needed_stages, outputs_of

log = logging.getLogger(__name__)


def _tags(grid_name: str, run: GridRun) -> dict[str, str]:
    return {TAG_EXPERIMENT: grid_name, "sracl.variant": run.variant, "sracl.seed": str(run.seed),
            "sracl.worker": f"{socket.gethostname()}:{os.getpid()}"}


def _run_one(config_path: str, grid_name: str, run: GridRun, until: str | None = None) -> None:
    """One pipeline run of the grid. A run whose stages all finished but whose tracking
    server stopped answering is done for the grid (its results are cached): the grid goes
    on instead of stopping every other run for a tracking outage."""
    started = time.perf_counter()
    try:
        pipeline_flow.with_options(flow_run_name=f"{grid_name}-{run.variant}-seed{run.seed}")(
            config_path=config_path, overrides=list(run.overrides), until=until,
            tags=_tags(grid_name, run))
    except TrackingLost as lost:
        log.warning("experiment %s: %s: %s; the grid goes on", grid_name, run.label, lost)
    except Exception as error:
        log.error("experiment %s: %s failed: %s", grid_name, run.label,
                  str(error).splitlines()[0] if str(error) else type(error).__name__)
        raise
    if until is None:
        log.info("experiment %s: %s done in %.0f s", grid_name, run.label,
                 time.perf_counter() - started)


@task(name="grid-run", persist_result=False, task_run_name="{run.label}")
def grid_run_task(config_path: str, grid_name: str, run: GridRun) -> None:
    """One variant x seed, where the flow's task runner puts it (a Ray worker)."""
    _run_one(config_path, grid_name, run)


def _on_ray(config_path: str, grid_name: str, runs: list[GridRun], jobs: int,
            threads: int | None, keep_going: bool) -> dict[str, Exception]:
    import ray
    from prefect_ray.context import remote_options

    gpus = 1 / jobs if ray.cluster_resources().get("GPU", 0) else 0
    with remote_options(num_cpus=threads or 1, num_gpus=gpus):
        futures = [grid_run_task.submit(config_path, grid_name, run) for run in runs]
    failures: dict[str, Exception] = {}
    for run, future in zip(runs, futures, strict=True):
        try:
            future.result()
        except Exception as error:
            if not keep_going:
                raise
            failures[run.label] = error
    return failures


def _one_by_one(config_path: str, grid_name: str, runs: list[GridRun], keep_going: bool,
                until: str | None = None) -> dict[str, Exception]:
    """Each run in this process, in order; a failure ends the grid, or with ``keep_going``
    is kept and the next run starts."""
    failures: dict[str, Exception] = {}
    for run in runs:
        try:
            _run_one(config_path, grid_name, run, until=until)
        except Exception as error:
            if not keep_going:
                raise
            failures[run.label] = error
    return failures


def _shared_stages(config_path: str, grid_name: str, runs: list[GridRun],
                   keep_going: bool) -> dict[str, Exception]:
    """The stages before train, once per variant (its first run), one at a time, so that no
    two runs compute the same artifact; with ``keep_going`` a variant whose shared stages
    failed fails all its runs and the other variants go on."""
    firsts: dict[str, GridRun] = {}
    for run in runs:
        firsts.setdefault(run.variant, run)
    failures: dict[str, Exception] = {}
    for first in firsts.values():
        stages = needed_stages(load_config(config_path, first.overrides))
        failed = _one_by_one(config_path, grid_name, [first], keep_going,
                             until=stages[stages.index("train") - 1])
        if failed:
            (error,) = failed.values()
            failures |= {run.label: error for run in runs if run.variant == first.variant}
    return failures


def unfinished(config_path: str, grid_name: str, runs: list[GridRun]) -> list[GridRun]:
    """The runs not finished yet (:func:`is_finished`); the others are logged."""
    pending = []
    for run in runs:
        outputs = outputs_of(load_config(config_path, run.overrides))
        if is_finished(outputs):
            log.info("experiment %s: %s finished earlier (evaluate %s)", grid_name, run.label,
                     outputs.fingerprint("evaluate"))
        else:
            pending.append(run)
    return pending


def ray_task_runner(address: str | None) -> Any:
    """prefect-ray's runner: a local Ray started here (``None``) or the cluster at ``address``;
    engine output stays in Ray's log files."""
    from prefect_ray import RayTaskRunner

    return RayTaskRunner(address=address, init_kwargs={
        "include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR})


@flow(name="sracl-experiment", persist_result=False)
def experiment_flow(config_path: str, grid_path: str, overrides: list[str] | None = None,
                    jobs: int = 1, threads: int | None = None,
                    runner: str = "local", variants: list[str] | None = None,
                    keep_going: bool = False) -> dict[str, Any]:
    """Run every variant x seed of the grid (finished ones are skipped), then aggregate.

    ``variants``: only these (and the baseline); the table covers just them.
    ``keep_going``: a failed run does not stop the others; the grid then ends with
    :class:`GridRunsFailed` naming every failed run (and writes no table).

    ``runner="ray"`` needs the flow started with :func:`ray_task_runner` as its task runner.
    """
    if runner not in RUNNERS:
        raise ConfigError(f"unknown runner {runner!r}; runners: {', '.join(RUNNERS)}")
    grid = select_variants(load_grid(grid_path), variants)
    extra = [*(overrides or []), f"tracking.experiment={grid.name}"]
    if jobs > 1 and threads is not None:
        extra.append(f"train.num_threads={threads}")
    runs = grid_runs(grid, extra)
    for run in runs:
        check_config(load_config(config_path, run.overrides), f"{grid_path} ({run.label})")
    log.info("experiment %s: %d variants x %d seeds = %d pipeline runs", grid.name,
             len(grid.variants), len(grid.seeds), len(runs))
    runs = unfinished(config_path, grid.name, runs)
    if runner == "local":  # on Ray the runs train on the cluster's machines, not this one
        for run in runs:
            config = load_config(config_path, run.overrides)
            check_machine(config, f"{grid_path} ({run.label})", needed_stages(config))
    if jobs <= 1 and runner == "local":
        failures = _one_by_one(config_path, grid.name, runs, keep_going)
    else:
        failures = _shared_stages(config_path, grid.name, runs, keep_going)
        runs = [run for run in runs if run.label not in failures]
        if runner == "ray" and runs:
            failures |= _on_ray(config_path, grid.name, runs, jobs, threads, keep_going)
        elif runs:
            errors = run_in_processes(_run_one, [(config_path, grid.name, run) for run in runs],
                                      jobs, keep_going=keep_going,
                                      labels=[run.label for run in runs])
            failures |= {runs[index].label: error for index, error in errors.items()}
    if failures:
        raise GridRunsFailed(grid.name, failures, grid_path)
    return aggregate(config_path, grid_path, overrides, variants)


def aggregate(config_path: str, grid_path: str, overrides: list[str] | None = None,
              variants: list[str] | None = None) -> dict[str, Any]:
    """The grid's table from the cache (every run must be finished), written and tracked."""
    grid = select_variants(load_grid(grid_path), variants)
    extra = [*(overrides or []), f"tracking.experiment={grid.name}"]
    rows, timings = [], []
    for run in grid_runs(grid, extra):
        config = load_config(config_path, run.overrides)
        figures = run_figures(config)
        rows += [(run.variant, run.seed, name, value) for name, value in figures.metrics.items()]
        timings.append((run.variant, run.seed, figures.train_fingerprint, figures.train_seconds,
                        figures.best_epoch, figures.epochs_run))
    runs = pl.DataFrame(rows, schema=RUN_SCHEMA, orient="row")
    summary = summarise(runs, grid.baseline, grid.metrics, grid.reference, grid.compare_to)
    times = pl.DataFrame(timings, schema=["variant", "seed", "train_fingerprint",
                                          "train_seconds", "best_epoch", "epochs_run"],
                         orient="row")
    best_epochs = times.group_by("variant", maintain_order=True).agg(
        pl.col("best_epoch").mean().round(1))
    minutes = mean_minutes([(row[0], row[3]) for row in timings])
    markdown = markdown_table(summary, grid.metrics, grid.baseline, minutes) + "\n\n" + \
        per_seed_table(runs, grid.metrics) + "\n\n" + \
        "\n".join([f"- {v}: best epoch {e} (mean over seeds)" for v, e in
                   best_epochs.iter_rows()])
    base = load_config(config_path, extra)
    folder = results_folder(base, grid.name)
    record = {"file": str(Path(grid_path).resolve()), "set": list(overrides or []),
              **grid.model_dump()}
    paths = write_results(folder, runs.join(times, on=["variant", "seed"], how="left"), summary,
                          markdown, grid=record)
    url = log_summary(base, record, summary, paths, markdown) \
        if base.tracking.enabled else None
    return {"grid": grid.name, "folder": str(folder), "markdown": markdown,
            "summary": summary.to_dicts(), "mlflow_url": url}
