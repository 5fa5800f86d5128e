"""MLflow tracking of pipeline runs: one parent run per execution, a nested run per stage.

Everything a run shows is read back from the artifact store (manifests and
tables), so a stage logs the same whether it was computed now or found cached,
and a stage whose outputs do not exist logs nothing. The orchestrator (Prefect)
is not imported here: it hands its run ids in as tags.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from mlflow import MlflowClient
from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from sracl_core.allocator import active_allocator
from sracl_core.artifacts import library_versions
from sracl_core.config import PipelineConfig, dump_config
from sracl_core.stages.graph import outputs_of
from sracl_core.stages.runner import StageOutcome
from sracl_core.tracking.batches import flatten, log_batch
from sracl_core.tracking.description import MLFLOW_RUN_NOTE, describe_run
from sracl_core.tracking.owner import close_abandoned, owner_tags
from sracl_core.tracking.stages import StageLog, stage_logger
from sracl_core.tracking.store import (
    EXPERIMENT_KIND,
    EXPERIMENT_KIND_TAG,
    artifact_location,
    ensure_experiment,
    open_client,
    run_url,
    tracking_uri,
    ui_command,
)

__all__ = ["EXPERIMENT_KIND", "EXPERIMENT_KIND_TAG", "PipelineRun", "RunSummary",
           "artifact_location", "ensure_experiment", "flatten", "run_url",
           "tracking_uri", "ui_command"]

log = logging.getLogger(__name__)
T = TypeVar("T")

TAG_STAGE = "sracl.stage"
TAG_MALLOC = "sracl.malloc"
"""The C allocator the run's process had (speed only: results are the same bits)."""
TAG_FINGERPRINT = "sracl.fingerprint"
TAG_STATE = "sracl.state"
TAG_KIND = "sracl.run_kind"
TAG_VERSION = "sracl.version"


def version_tags() -> dict[str, str]:
    """``sracl.version.<library>``: what every artifact's manifest records, on the run too,
    so runs made with other library versions (or CPU kinds) are told apart in the UI."""
    return {f"{TAG_VERSION}.{name}": value for name, value in library_versions().items()}


@dataclass
class RunSummary:
    """What a caller shows after a run: where it is and what it measured."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    run_url: str
    ui_command: str
    stages: list[dict[str, Any]] = field(default_factory=list)
    test_metrics: dict[str, float] = field(default_factory=dict)
    model_uri: str | None = None
    model_id: str | None = None
    """The MLflow 3 logged model (``models:/<model_id>``) the pipeline run lists."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PipelineRun:
    """The MLflow parent run of one pipeline execution and its nested stage runs."""

    def __init__(self, config: PipelineConfig, client: MlflowClient, experiment_id: str,
                 run_id: str) -> None:
        self.config = config
        self.client = client
        self.experiment_id = experiment_id
        self.run_id = run_id
        self.outputs = outputs_of(config)
        self.stages: list[StageOutcome] = []
        self.test_metrics: dict[str, float] = {}
        self.model_uri: str | None = None
        self.model_id: str | None = None
        self.abandoned: list[Run] = []
        """Runs of dead processes this run found RUNNING and closed as FAILED."""
        self.lost: str | None = None
        """What was being logged when the tracking server stopped answering, and its error;
        from then on this run logs nothing, so the pipeline goes on without waiting for it."""

    @classmethod
    def start(cls, config: PipelineConfig, *, run_name: str | None = None,
              tags: Mapping[str, str] | None = None) -> PipelineRun:
        """Open the parent run (tagged with this process as its owner), after closing the
        runs that dead processes left RUNNING in the experiment."""
        client = open_client(config)
        experiment_id = ensure_experiment(client, config)
        abandoned = close_abandoned(client, experiment_id)
        all_tags = {TAG_KIND: "pipeline", "sracl.dataset": config.dataset, **owner_tags(),
                    TAG_MALLOC: active_allocator(), **(tags or {})}
        run = client.create_run(experiment_id, run_name=run_name, tags=all_tags)
        log.info("mlflow: run %s in %s", run.info.run_id, tracking_uri(config))
        pipeline = cls(config, client, experiment_id, run.info.run_id)
        pipeline.abandoned = abandoned
        return pipeline

    @property
    def url(self) -> str:
        return run_url(self.config, self.experiment_id, self.run_id)

    def _tracked(self, what: str, call: Callable[[], T], default: T) -> T:
        """``call()``, unless the server was lost; its first failure loses it (logged once)."""
        if self.lost is not None:
            return default
        try:
            return call()
        except (MlflowException, OSError) as error:
            self.lost = f"while logging {what}: {error}"
            log.warning("mlflow: %s stopped answering %s; this run logs nothing more, and the "
                        "pipeline goes on", tracking_uri(self.config), self.lost)
            return default

    def log_config(self, *, config_path: str | None = None,
                   overrides: Iterable[str] = ()) -> None:
        """The resolved config as params (dotted keys) and as a YAML artifact."""
        self._tracked("the config", lambda: self._log_config(config_path, overrides), None)

    def _log_config(self, config_path: str | None, overrides: Iterable[str]) -> None:
        params = flatten(self.config.model_dump(mode="json"))
        tags = {f"sracl.fingerprint.{stage}": fp
                for stage, fp in self.outputs.fingerprints.items()}
        if config_path:
            tags["sracl.config_path"] = str(config_path)
        overrides = list(overrides)
        if overrides:
            tags["sracl.overrides"] = " ".join(overrides)[:5000]
        tags.update(version_tags())
        log_batch(self.client, self.run_id, params=params, tags=tags)
        self.client.log_text(self.run_id, dump_config(self.config), "config/resolved.yaml")

    def log_stage(self, record: StageOutcome, *, tags: Mapping[str, str] | None = None
                  ) -> str | None:
        """A nested run for one stage: its fingerprint, state, timings and contents; its run
        id (None once the server is lost)."""
        self.stages.append(record)
        return self._tracked(f"stage {record.stage}", lambda: self._log_stage(record, tags),
                             None)

    def _log_stage(self, record: StageOutcome, tags: Mapping[str, str] | None) -> str:
        nested = self.client.create_run(
            self.experiment_id, run_name=record.stage,
            tags={MLFLOW_PARENT_RUN_ID: self.run_id, TAG_KIND: "stage", TAG_STAGE: record.stage,
                  TAG_FINGERPRINT: record.fingerprint, TAG_STATE: record.state,
                  "sracl.artifact_path": record.path, **owner_tags(), **(tags or {})},
        )
        nested_id = nested.info.run_id
        metrics = {"seconds": record.seconds}
        manifest = self.outputs.manifest(record.stage)
        if manifest is not None:
            metrics["compute_seconds"] = float(manifest.get("wall_seconds", 0.0))
            metrics.update({f"rows.{name}": float(count)
                            for name, count in manifest.get("tables", {}).items()})
        log_batch(self.client, nested_id, metrics=metrics)
        log_batch(self.client, self.run_id,
                  metrics={f"stage_seconds.{record.stage}": record.seconds},
                  tags={f"sracl.state.{record.stage}": record.state})
        status = "FINISHED"
        logger = stage_logger(record.stage)
        if manifest is not None:
            try:
                outcome = logger(StageLog(self.config, self.client, self.outputs, record.stage,
                                          nested_id, self.run_id, frozenset(record.live_epochs)))
            except Exception as error:
                log.warning("mlflow: logging %s's outputs failed: %s", record.stage, error,
                            exc_info=True)
                self.client.set_tag(nested_id, "sracl.logging_error", str(error)[:5000])
                status = "FAILED"
            else:
                self.test_metrics.update(outcome.test_metrics)
                self.model_uri = outcome.model_uri or self.model_uri
                self.model_id = outcome.model_id or self.model_id
        self.client.set_terminated(nested_id, status)
        return nested_id

    def finish(self, status: str = "FINISHED") -> RunSummary:
        """Close the parent run, with its description, and say what it holds."""
        self._tracked("the run's end", lambda: self._close(status), None)
        return RunSummary(
            run_id=self.run_id, experiment_id=self.experiment_id,
            tracking_uri=tracking_uri(self.config), run_url=self.url,
            ui_command=ui_command(self.config),
            stages=[{**asdict(r), "state": r.state} for r in self.stages],
            test_metrics=dict(self.test_metrics), model_uri=self.model_uri,
            model_id=self.model_id,
        )

    def _close(self, status: str) -> None:
        total = sum(record.seconds for record in self.stages)
        log_batch(self.client, self.run_id, metrics={"pipeline_seconds": total},
                  tags={"sracl.stages": ",".join(r.stage for r in self.stages),
                        MLFLOW_RUN_NOTE: self.description(status)})
        self.client.set_terminated(self.run_id, status)

    def description(self, status: str = "FINISHED") -> str:
        """The run page's Markdown summary, from the ingest manifest and the logged stages."""
        stats = (self.outputs.manifest("ingest") or {}).get("stats", {})
        return describe_run(self.config.dataset, stats, self.stages, self.test_metrics,
                            model_uri=self.model_uri, status=status)
