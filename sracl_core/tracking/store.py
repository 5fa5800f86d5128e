"""Where MLflow runs are stored, and opening that store safely.

The default store is a SQLite file in the cache root, created (schema migrations
included) by the first client that opens it. Two pipelines started together on
an empty cache would both migrate it at once and one would crash
(``table _alembic_tmp_experiments already exists``), so the first opening of a
SQLite store is serialised with a file lock. A file there that is not an MLflow
database is refused, read-only and before any server starts, with one line that
says what to do, instead of MLflow's raw ``file is not a database`` later on.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import unquote

from filelock import FileLock
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from sracl_core.config import PipelineConfig
from sracl_core.errors import SraclError

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
"""MLflow 3's UI opens an experiment by its kind: GenAI (traces, "Evaluation runs") or
model training (runs, charts, models). These runs train a model, so say so up front."""
WORKFLOW_QUERY = "?workflowType=machine_learning"
SERVER_CHECK_SECONDS = 5.0
"""The UI's own switch between the two views (remembered per browser, GenAI by default);
links carry it so a first visit opens the model-training view too."""
SQLITE_HEADER = b"SQLite format 3\x00"
MLFLOW_TABLES = frozenset({"experiments", "runs", "alembic_version"})
"""Tables every MLflow SQLite store has once created; a database with other tables and
not these belongs to something else."""


class TrackingStoreError(SraclError):
    """The tracking store cannot be used as it is; the message says what to do."""


def tracking_uri(config: PipelineConfig) -> str:
    """The config's URI, else ``MLFLOW_TRACKING_URI`` (how a container is pointed at the
    MLflow server), else a SQLite database in the cache root (MLflow 3's default store).

    Everything here logs through a client bound to this URI; the process-wide MLflow
    URI (which MLflow mirrors into ``MLFLOW_TRACKING_URI``) is only touched, and then
    restored, around the one fluent call (see :mod:`sracl_core.tracking.model`).
    """
    uri = config.tracking.uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    return f"sqlite:///{(Path(config.cache_root) / 'mlflow.db').resolve()}"


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI; None for any other store."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(unquote(uri.removeprefix("sqlite:///").split("?", 1)[0]))


def artifact_location(config: PipelineConfig) -> str | None:
    """Where a new experiment keeps artifacts: beside the local database, or the server's default.

    A remote tracking server picks its own artifact store (often proxied), so
    none is forced on it unless the config names one.
    """
    if config.tracking.artifact_location:
        return config.tracking.artifact_location
    if tracking_uri(config).startswith("sqlite:///"):
        return (Path(config.cache_root) / "mlartifacts").resolve().as_uri()
    return None


def ui_command(config: PipelineConfig) -> str:
    """The command that shows these runs in a browser."""
    uri = tracking_uri(config)
    if uri.startswith(("http://", "https://")):
        return f"open {uri}"
    return f"mlflow server --backend-store-uri {uri} --host 127.0.0.1 --port 5000"


def run_url(config: PipelineConfig, experiment_id: str, run_id: str) -> str:
    """The run's page on the tracking server (the local UI's default address for a local store)."""
    uri = tracking_uri(config)
    base = uri.rstrip("/") if uri.startswith(("http://", "https://")) else "http://127.0.0.1:5000"
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}{WORKFLOW_QUERY}"


def foreign_reason(path: Path) -> str | None:
    """Why ``path`` cannot be an MLflow store, or None if it can (absent, empty, or MLflow's).

    Only reads: the header, then the table names through a read-only connection,
    so a file that belongs to someone else is left exactly as it was.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return None
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            return "not an SQLite database"
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.OperationalError:
        return None  # busy or locked by a live writer: MLflow's own error says more
    except sqlite3.DatabaseError as error:
        return f"a damaged SQLite database ({error})"
    own = {name for name in tables if not name.startswith(("alembic_", "sqlite_"))}
    if own and not MLFLOW_TABLES.issubset(tables):
        return f"an SQLite database of something else (tables: {', '.join(sorted(own)[:5])})"
    return None


def _uri_source(config: PipelineConfig) -> str:
    return "tracking.uri" if config.tracking.uri else "MLFLOW_TRACKING_URI"


def _check_server(uri: str, source: str) -> None:
    """An MLflow server answers its /health within seconds; otherwise MLflow's client
    retries with growing back-off for minutes while the console says nothing."""
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health",
                                    timeout=SERVER_CHECK_SECONDS) as answer:
            if answer.status == 200:
                return
            problem = f"it answered HTTP {answer.status}"
    except (OSError, ValueError) as error:  # URLError and timeouts are OSErrors
        problem = str(getattr(error, "reason", error))
    raise TrackingStoreError(
        f"{uri} (from {source}): no MLflow server answers there ({problem}); start it, or "
        f"unset {source} to keep runs in the local store")


def check_store(config: PipelineConfig) -> None:
    """Refuse a store that cannot work, before anything starts: a local file that is not
    MLflow's, a URI without a scheme, or a server that does not answer."""
    uri = tracking_uri(config)
    scheme = urllib.parse.urlsplit(uri).scheme
    if not scheme or len(scheme) == 1:  # "runs" or "C:\\runs": a path, not a URI
        raise TrackingStoreError(
            f"{uri} (from {_uri_source(config)}): expected a URI such as "
            "sqlite:////abs/path/mlflow.db or http://host:5000")
    if scheme in ("http", "https"):
        _check_server(uri, _uri_source(config))
    path = sqlite_path(uri)
    reason = foreign_reason(path) if path is not None else None
    if reason is not None:
        raise TrackingStoreError(
            f"{path}: is {reason}, not an MLflow store; move it away, or set tracking.uri "
            "(--set tracking.uri=sqlite:////other/mlflow.db) to keep runs elsewhere")


def open_client(config: PipelineConfig) -> MlflowClient:
    """A client on the config's store; a local store is checked first and created by one
    process at a time (the lock sits beside the database as ``mlflow.db.lock``)."""
    uri = tracking_uri(config)
    path = sqlite_path(uri)
    if path is None:
        return MlflowClient(tracking_uri=uri, registry_uri=uri)
    check_store(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.with_name(path.name + ".lock")):
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)  # creates the tracking tables
        client._get_registry_client().store  # noqa: B018 (and the registry's, also lazily)
    return client


def ensure_experiment(client: MlflowClient, config: PipelineConfig) -> str:
    """The experiment's id, created (or restored from deletion) when needed, marked as a
    model-training experiment unless it already has a kind (a person may have chosen one)."""
    name = config.tracking.experiment
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.create_experiment(name, artifact_location=artifact_location(config),
                                            tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND})
        except MlflowException:
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
    if experiment.lifecycle_stage == "deleted":
        client.restore_experiment(experiment.experiment_id)
    if EXPERIMENT_KIND_TAG not in experiment.tags:
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
    return experiment.experiment_id
