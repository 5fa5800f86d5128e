"""Where MLflow runs go and what they carry.

No stage reads this section, so it never enters a fingerprint: pointing the
pipeline at another tracking server re-runs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from sracl_core.config_base import StrictModel


class TrackingConfig(StrictModel):
    """MLflow tracking; the default is a SQLite store and an artifact folder beside the cache."""

    enabled: bool = Field(True, description="log each pipeline run to MLflow")
    uri: str | None = Field(
        None, description="MLflow tracking URI; None = $MLFLOW_TRACKING_URI if set, else "
                          "sqlite:///<cache_root>/mlflow.db")
    artifact_location: str | None = Field(
        None, description="artifact root of a new experiment; None = <cache_root>/mlartifacts "
                          "for a SQLite store, the server's choice otherwise")
    experiment: str = "sracl"
    registered_model: str | None = Field(
        None, description="model registry name; None = sracl-<dataset>")
    log_model: bool = Field(True, description="log the best model as a pyfunc and register it")
    sample_rows: int = Field(20, ge=1, description="rows of profiles and neighbour examples "
                                                   "logged as tables")
    top_k: int = Field(20, ge=1, description="length of the lists the logged model returns")


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
