"""Log the train stage's best model as a pyfunc and register it, once per fingerprint.

A cached re-run finds the version registered for its train fingerprint and
points at it instead of logging a copy, so re-running a cached pipeline adds
no new model versions (and stays fast).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow
from mlflow import MlflowClient
from mlflow.tracking._tracking_service.utils import _use_tracking_uri

from sracl_core.pyfunc_model import (
    ITEMS_ARTIFACT,
    MODEL_ARTIFACT,
    TopKRecommender,
    input_example,
    signature,
)

if TYPE_CHECKING:
    from sracl_core.config import PipelineConfig

TAG_TRAIN_FINGERPRINT = "sracl.train_fingerprint"
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


def log_recommender(client: MlflowClient, run_id: str, *, name: str, model_dir: Path,
                    items_table: Path, train_fingerprint: str, top_k: int) -> str:
    """``models:/<name>/<version>`` of the registered pyfunc for this train artifact."""
    version = registered_version(client, name, train_fingerprint)
    if version is None:
        with process_tracking_uri(client.tracking_uri), mlflow.start_run(run_id=run_id):
            info = mlflow.pyfunc.log_model(
                name="recommender",
                python_model=TopKRecommender(top_k),
                artifacts={MODEL_ARTIFACT: str(model_dir), ITEMS_ARTIFACT: str(items_table)},
                signature=signature(top_k),
                input_example=input_example(),
                pip_requirements=_requirements(),
                registered_model_name=name,
                tags={TAG_TRAIN_FINGERPRINT: train_fingerprint},
            )
        version = str(info.registered_model_version)
        client.set_model_version_tag(name, version, TAG_TRAIN_FINGERPRINT, train_fingerprint)
    return f"models:/{name}/{version}"


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
