"""Log the train stage's best model as a pyfunc and register it, once per fingerprint.

The pyfunc is logged from code (:mod:`sracl_core.pyfunc_entry`), so loading or
serving it runs only this package's code: there is no pickle in it to tamper with.

A cached re-run finds the version registered for its train fingerprint and
points at it instead of logging a copy, so re-running a cached pipeline adds
no new model versions (and stays fast).

MLflow 3 keeps a logged model as its own entity (a ``LoggedModel``), which a run
shows under "Logged models" only when the model is one of the run's outputs.
``log_model`` makes it an output of the run it was logged from (the train stage's
nested run); :func:`link_model` adds it to the pipeline run, and to a cached
re-run's stage run, which would otherwise show no model at all.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow
from mlflow import MlflowClient
from mlflow.entities import LoggedModelOutput
from mlflow.exceptions import MlflowException
from mlflow.tracking._tracking_service.utils import _use_tracking_uri

from sracl_core.pyfunc_model import (
    ITEMS_ARTIFACT,
    MODEL_ARTIFACT,
    TOP_K,
    input_example,
    signature,
)

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig

log = logging.getLogger(__name__)

TAG_TRAIN_FINGERPRINT = "sracl.train_fingerprint"
MODEL_TYPE = "sequential-recommender"
# MLflow's fluent API (the only way to log a pyfunc) works through process-wide state:
# the global tracking URI, its environment variable and standard error. Pipelines run
# in threads (an experiment's ``--jobs``) would swap each other's copies of that
# state, leaving the URI of one run's store set for the whole process; one lock makes
# each log-and-register a unit.
_FLUENT = threading.Lock()
ENTRY_FILE = Path(__file__).resolve().parents[1] / "pyfunc_entry.py"
"""Models from code: the logged model holds this source file, never a pickled object (the
file is named, not imported: importing it would register a model as a side effect)."""
_REQUIREMENTS = ("torch", "safetensors", "numpy", "pandas", "polars", "pyarrow", "pydantic",
                 "mlflow")


def registered_model_name(config: PipelineConfig) -> str:
    return config.tracking.registered_model or f"sracl-{config.dataset}"


def registered_version(client: MlflowClient, name: str, train_fingerprint: str) -> str | None:
    """The registry version already holding this train fingerprint's model, if any."""
    for version in client.search_model_versions(f"name = '{name}'"):
        if version.tags.get(TAG_TRAIN_FINGERPRINT) == train_fingerprint:
            return version.version
    return None


@dataclass(frozen=True)
class LoggedRecommender:
    """The registered model of one train fingerprint: its registry URI and its MLflow 3
    logged-model id (None for a version registered before logged models existed)."""

    uri: str
    model_id: str | None


def log_recommender(client: MlflowClient, run_id: str, *, name: str, model_dir: Path,
                    items_table: Path, train_fingerprint: str, top_k: int,
                    params: Mapping[str, str] | None = None) -> LoggedRecommender:
    """The registered pyfunc for this train artifact, logged from ``run_id`` if it is new.

    ``params`` (the training settings) are stored on the logged model, where the
    experiment's Models tab shows them next to each model.
    """
    with _FLUENT:
        version = registered_version(client, name, train_fingerprint)
        if version is None:
            version = _log_and_register(client, run_id, name=name, model_dir=model_dir,
                                        items_table=items_table,
                                        train_fingerprint=train_fingerprint, top_k=top_k,
                                        params=params)
    return LoggedRecommender(uri=f"models:/{name}/{version}",
                             model_id=logged_model_id(client, name, version))


def _log_and_register(client: MlflowClient, run_id: str, *, name: str, model_dir: Path,
                      items_table: Path, train_fingerprint: str, top_k: int,
                      params: Mapping[str, str] | None) -> str:
    """Log the pyfunc from ``run_id`` and register it; returns the new version."""
    with process_tracking_uri(client.tracking_uri), mlflow.start_run(run_id=run_id), \
            prints_to_log("mlflow.registry"):
        info = mlflow.pyfunc.log_model(
            name="recommender",
            python_model=str(ENTRY_FILE),
            model_config={TOP_K: top_k},
            artifacts={MODEL_ARTIFACT: str(model_dir), ITEMS_ARTIFACT: str(items_table)},
            signature=signature(top_k),
            input_example=input_example(),
            pip_requirements=_requirements(),
            registered_model_name=name,
            tags={TAG_TRAIN_FINGERPRINT: train_fingerprint},
            params=dict(params or {}),
            model_type=MODEL_TYPE,
        )
    version = str(info.registered_model_version)
    client.set_model_version_tag(name, version, TAG_TRAIN_FINGERPRINT, train_fingerprint)
    return version


@contextmanager
def prints_to_log(logger_name: str) -> Iterator[None]:
    """MLflow's registry prints its progress ("Successfully registered model ...") to
    standard error instead of logging it; this sends those lines to the log instead."""
    captured = io.StringIO()
    with contextlib.redirect_stderr(captured):
        yield
    for line in captured.getvalue().splitlines():
        if line.strip():
            logging.getLogger(logger_name).info(line)


def logged_model_id(client: MlflowClient, name: str, version: str) -> str | None:
    """The logged model a registry version was made from.

    The SQL registry leaves ``ModelVersion.model_id`` empty and records the logged
    model only as the version's source, ``models:/<model_id>``; an older version's
    source is a run's artifact path, which names no logged model.
    """
    registered = client.get_model_version(name, version)
    if registered.model_id:
        return registered.model_id
    source = registered.source or ""
    model_id = source.removeprefix("models:/")
    return model_id if source.startswith("models:/") and model_id and "/" not in model_id else None


def link_model(client: MlflowClient, run_id: str, model_id: str) -> bool:
    """Make the logged model an output of ``run_id`` (once), so the run lists it.

    Outputs are rows, not a set: linking twice would list the model twice. A store
    that cannot link (an older server) only loses the listing, never the model URI,
    so a failure is logged and the run goes on.
    """
    try:
        outputs = client.get_run(run_id).outputs
        if any(out.model_id == model_id for out in (outputs.model_outputs if outputs else [])):
            return True
        client.log_outputs(run_id, [LoggedModelOutput(model_id, step=0)])
    except MlflowException as error:
        log.warning("mlflow: could not list model %s on run %s: %s", model_id, run_id, error)
        return False
    return True


@contextmanager
def process_tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's process-wide URI at ``uri`` for a fluent call, then put it back.

    ``log_model`` logs only to the active run of the global URI, and setting that URI
    also rewrites ``MLFLOW_TRACKING_URI``; left set, it would silently redirect every
    later config of this process that relies on the default store.
    """
    saved = os.environ.get("MLFLOW_TRACKING_URI")
    try:
        with _use_tracking_uri(uri):
            yield
    finally:
        if saved is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved


def _requirements() -> list[str]:
    """Pinned versions of what the pyfunc imports (``sracl`` itself must be installed)."""
    pins = []
    for package in _REQUIREMENTS:
        try:
            pins.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return pins
