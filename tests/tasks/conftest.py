"""Prefect's settings for the task tests, applied before any test module imports Prefect."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.environment import configure_prefect

configure_prefect(Path(os.environ.get("PREFECT_HOME") or tempfile.mkdtemp(prefix="sracl-prefect-")))


@pytest.fixture(scope="session", autouse=True)
def stop_ephemeral_prefect_server() -> Iterator[None]:
    """Send Prefect's last logs and events, then stop its temporary server, while pytest's
    output streams are still open (Prefect's own exit hooks would log to closed streams)."""
    yield
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer

    APILogWorker.drain_all(timeout=30)
    EventsWorker.drain_all(timeout=30)
    SubprocessASGIServer().stop()
