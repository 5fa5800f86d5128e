"""Telling an MLflow store from a foreign file, and a run's owner process from a stranger.

The real-process versions (two runs on one cache, a foreign file under `sracl
run`, kill -9) are in ``tests/flows``; these pin the rules they rely on.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sracl_core.config import load_config
from sracl_core.tracking.owner import TAG_HOST, TAG_PID, TAG_STARTED, owner_alive, owner_tags
from sracl_core.tracking.store import (
    TrackingStoreError,
    check_store,
    foreign_reason,
    open_client,
)
from tests.servers import closed_port_url, mlflow_ui
from tests.stage_runs import DEFAULT_CONFIG


def test_a_store_mlflow_made_or_may_make_is_accepted(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    database = tmp_path / "mlflow.db"
    assert foreign_reason(database) is None, "absent: MLflow creates it"
    database.touch()
    assert foreign_reason(database) is None, "empty: SQLite reads it as an empty database"
    open_client(load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}"]))
    assert foreign_reason(database) is None


def test_a_foreign_file_is_refused_in_one_line_and_left_as_it_was(tmp_path: Path,
                                                                   monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    database = tmp_path / "mlflow.db"
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.commit()
    connection.close()
    before = (database.read_bytes(), database.stat().st_mtime_ns)
    config = load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}"])
    with pytest.raises(TrackingStoreError) as raised:
        open_client(config)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{database}: is an SQLite database "
                                                      "of something else (tables: notes)")
    assert (database.read_bytes(), database.stat().st_mtime_ns) == before


def test_a_run_owner_is_alive_only_while_its_own_process_runs():
    assert owner_alive(owner_tags())
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    here = socket.gethostname()
    assert not owner_alive({TAG_HOST: here, TAG_PID: ended.stdout.strip(), TAG_STARTED: "1.0"})
    reused = {**owner_tags(), TAG_STARTED: "1.0"}
    assert not owner_alive(reused), "the same PID started at another time is another process"
    assert owner_alive({TAG_HOST: "elsewhere", TAG_PID: str(os.getpid() + 1)}), \
        "another host's processes cannot be seen, so its runs are never closed"
    assert owner_alive({}), "a run from before owners were recorded is left alone"


def test_a_tracking_server_that_does_not_answer_fails_in_seconds_naming_its_source(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Before, MLflow's client retried with growing back-off for minutes, the console silent."""
    dead = closed_port_url().removesuffix("/v1")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", dead)
    config = load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}"])
    with pytest.raises(TrackingStoreError) as raised:
        check_store(config)
    assert str(raised.value).startswith(f"{dead} (from MLFLOW_TRACKING_URI): no MLflow server "
                                        "answers there (")
    assert str(raised.value).endswith("unset MLFLOW_TRACKING_URI to keep runs in the local store")
    with pytest.raises(TrackingStoreError, match=r"^runs \(from tracking.uri\): expected a URI "):
        check_store(load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}", "tracking.uri=runs"]))


@pytest.mark.network_loopback
def test_a_real_mlflow_server_passes_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    backend = f"sqlite:///{tmp_path / 'server.db'}"
    with mlflow_ui(backend, tmp_path / "server.log") as base:
        check_store(load_config(DEFAULT_CONFIG, [f"cache_root={tmp_path}",
                                                 f"tracking.uri={base}"]))
