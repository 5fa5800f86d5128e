"""Where MLflow runs go."""

from __future__ import annotations

from pydantic import Field

from sracl_core.config_base import StrictModel


class TrackingConfig(StrictModel):
    """MLflow tracking; the default is a SQLite store beside the cache."""

    uri: str | None = Field(None, description="MLflow tracking URI; None = sqlite in cache_root")
    experiment: str = "sracl"
