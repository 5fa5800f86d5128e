"""The one way sracl writes metrics, params and tags to MLflow: names MLflow accepts,
no missing or non-finite values, and batches within MLflow's per-request limits."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

_METRIC_NAME_UNSAFE = re.compile(r"[^/\w.\- ]")
_LIMITS = {"metrics": 1000, "params": 100, "tags": 100}
"""Entries of each kind that MLflow takes in one ``log_batch`` request."""


def metric_name(name: str) -> str:
    """MLflow metric names allow letters, digits and ``_-. /``: ``NDCG@10`` -> ``NDCG_10``."""
    return _METRIC_NAME_UNSAFE.sub("_", name)


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool): what a metric can hold."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(float(value))


def metric_list(values: Mapping[str, Any], step: int = 0) -> list[Metric]:
    """MLflow metrics named the way MLflow accepts, leaving out missing and non-finite values."""
    now = int(time.time() * 1000)
    return [Metric(metric_name(k), float(v), now, step) for k, v in values.items()
            if is_number(v)]


def log_batch(client: MlflowClient, run_id: str, *, metrics: Mapping[str, Any] | None = None,
              step: int = 0, params: Mapping[str, str] | None = None,
              tags: Mapping[str, Any] | None = None) -> None:
    """Log everything given to one run, in as few requests as MLflow's limits allow."""
    entries = {"metrics": metric_list(metrics or {}, step),
               "params": [Param(k, str(v)) for k, v in (params or {}).items()],
               "tags": [RunTag(k, str(v)) for k, v in (tags or {}).items()]}
    for kind, values in entries.items():
        for start in range(0, len(values), _LIMITS[kind]):
            client.log_batch(run_id, **{kind: values[start:start + _LIMITS[kind]]})


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> dotted keys, the way ``--set`` names them (MLflow params are flat)."""
    flat: dict[str, str] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)[:6000]
    return flat
