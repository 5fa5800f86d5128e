"""Prefect's settings for the task tests, applied before any test module imports Prefect."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flows.environment import configure_prefect

configure_prefect(Path(os.environ.get("PREFECT_HOME") or tempfile.mkdtemp(prefix="sracl-prefect-")))
