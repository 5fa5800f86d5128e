"""The pipeline DAG as Prefect flows: the whole pipeline, and one stage (with what follows it).

Stages run one after the other (the DAG is a chain, and the GPU stages must not
overlap); each is a task that skips itself when its fingerprint is complete.
Every execution is one MLflow run whose nested runs are the stages, and leaves
Prefect artifacts that link the flow run to it.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from prefect import flow, get_run_logger
from prefect.exceptions import TerminationSignal
from prefect.runtime import flow_run

from flows.abandoned import crash_flow_runs
from flows.reporting import evaluated_metrics, publish
from sracl_core.config import PipelineConfig, load_config
from sracl_core.errors import ConfigError, TrackingLost
from sracl_core.preflight import check_config, check_ingested, check_machine
from sracl_core.stages.graph import STAGE_ORDER, select_stages, stage_fingerprints
from sracl_core.stages.runner import StageOutcome
from sracl_core.tracking.run import PipelineRun
from tasks.stages import stage_task

DEFAULT_CONFIG = "configs/default.yaml"
STOPS = (KeyboardInterrupt, TerminationSignal)
"""A run ended by SIGINT or SIGTERM (Prefect raises the latter inside a flow) is KILLED,
not FAILED: nothing in it went wrong."""


def _check_stage(name: str | None) -> None:
    if name is not None and name not in STAGE_ORDER:
        raise ConfigError(f"unknown stage {name!r}; stages: {', '.join(STAGE_ORDER)}")


def _start_tracking(config: PipelineConfig, config_path: str, overrides: list[str],
                    stages: list[str], extra_tags: dict[str, str]) -> PipelineRun | None:
    if not config.tracking.enabled:
        return None
    tags = {"prefect.flow_run_id": str(flow_run.id), "prefect.flow_run_name": flow_run.name or "",
            "prefect.flow_name": flow_run.flow_name or "", "sracl.selected": ",".join(stages),
            **extra_tags}
    if flow_run.ui_url and not flow_run.ui_url.startswith("None"):  # no UI: no link
        tags["prefect.flow_run_url"] = flow_run.ui_url
    run = PipelineRun.start(config, run_name=f"{config.dataset}-{flow_run.name}", tags=tags)
    crash_flow_runs(run.abandoned)
    run.log_config(config_path=config_path, overrides=overrides)
    return run


def execute(config_path: str, overrides: list[str] | None, *, stage: str | None = None,
            downstream: bool = False, until: str | None = None,
            force: bool = False, tags: dict[str, str] | None = None,
            computed_before: dict[str, float] | None = None) -> dict[str, Any]:
    """Run the selected stages in order inside the current flow run; returns the run summary.

    No ``stage``: every stage this config needs; a ``stage``: it alone, or with
    ``downstream`` it and every stage that reads from it; ``until`` cuts after a stage.
    ``tags`` go on the MLflow run (an experiment names its variant and seed there).
    ``computed_before`` names stages the caller computed for this run just before the flow
    (the CLI reads the input first, to fail fast): they are reported as computed, with
    their seconds, though the flow found them cached.
    """
    for name in (stage, until):
        _check_stage(name)
    logger = get_run_logger()
    library_logger = logging.getLogger("sracl_core")
    if library_logger.level == logging.NOTSET:
        library_logger.setLevel(logging.INFO)
    overrides = list(overrides or [])
    config = load_config(config_path, overrides)
    check_config(config, config_path)
    stages = select_stages(config, stage, downstream=downstream, until=until)
    check_machine(config, config_path, stages, force)
    fingerprints = stage_fingerprints(config)
    logger.info("sracl %s: stages %s", config.dataset, " -> ".join(stages))
    tracker = _start_tracking(config, config_path, overrides, stages, dict(tags or {}))
    records: list[StageOutcome] = []
    try:
        for name in stages:
            state = stage_task(name)(config_path, overrides, name, fingerprints[name], force,
                                     tracker.run_id if tracker is not None else None,
                                     return_state=True)
            record = StageOutcome.from_dict(state.result())
            if record.cached and name in (computed_before or {}):
                record = dataclasses.replace(record, cached=False,
                                             seconds=computed_before[name])
            records.append(record)
            if name == "ingest":
                check_ingested(config, stages)
            if tracker is not None:
                tracker.log_stage(record, tags={
                    "prefect.flow_run_id": str(flow_run.id),
                    "prefect.task_run_id": str(state.state_details.task_run_id)})
    except BaseException as error:
        if tracker is not None:
            tracker.finish("KILLED" if isinstance(error, STOPS) else "FAILED")
        raise
    summary = tracker.finish().to_dict() if tracker is not None else None
    test_metrics = summary["test_metrics"] if summary is not None \
        else evaluated_metrics(config, stages)
    stage_rows = [{**vars(r), "state": r.state} for r in records]
    publish(config.dataset, stage_rows, summary, test_metrics)
    if tracker is not None and tracker.lost is not None:
        raise TrackingLost(
            f"mlflow: {summary['tracking_uri']} stopped answering {tracker.lost}; every stage "
            f"ran and is cached, but run {summary['run_id']} is incomplete: once the server "
            "answers, the same command logs a complete run of them without computing anything")
    if summary is not None:
        logger.info("mlflow run %s: %s", summary["run_id"], summary["run_url"])
    return {"dataset": config.dataset, "cache_root": str(config.cache_root),
            "flow_run_id": str(flow_run.id), "stages": stage_rows, "tracking": summary,
            "test_metrics": test_metrics}


@flow(name="sracl-pipeline", persist_result=False)
def pipeline_flow(config_path: str = DEFAULT_CONFIG, overrides: list[str] | None = None,
                  stage: str | None = None, downstream: bool = False, until: str | None = None,
                  force: bool = False, tags: dict[str, str] | None = None,
                  computed_before: dict[str, float] | None = None) -> dict[str, Any]:
    """The whole pipeline, or one stage (``stage``), with ``downstream`` every stage after it,
    up to ``until``. Cached stages are skipped; ``force`` recomputes the selected ones."""
    return execute(config_path, overrides, stage=stage, downstream=downstream, until=until,
                   force=force, tags=tags, computed_before=computed_before)


@flow(name="sracl-stage", flow_run_name="stage-{stage}", persist_result=False)
def stage_flow(stage: str, config_path: str = DEFAULT_CONFIG, overrides: list[str] | None = None,
               downstream: bool = False, force: bool = False) -> dict[str, Any]:
    """One stage (and, with ``downstream``, every stage that reads from it), reusing every
    upstream artifact; a missing upstream artifact is an error that names the stage to run."""
    return execute(config_path, overrides, stage=stage, downstream=downstream, force=force)

