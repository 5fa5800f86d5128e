"""Servers left by dead commands are stopped; a live command's server and others are kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil

from flows.prefect_server import SERVERS, stop_orphans


def _identity(pid: int) -> dict[str, float]:
    return {"pid": pid, "started": psutil.Process(pid).create_time()}


def test_only_servers_whose_owner_died_are_stopped(tmp_path: Path) -> None:
    records = tmp_path / SERVERS
    records.mkdir()
    owner = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_owner = _identity(owner.pid)
    owner.wait()
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    kept = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (records / "1.json").write_text(json.dumps({"owner": dead_owner,
                                                    "server": _identity(orphan.pid)}))
        (records / "2.json").write_text(json.dumps({"owner": _identity(psutil.Process().pid),
                                                    "server": _identity(kept.pid)}))
        (records / "3.json").write_text("{half a record")
        assert stop_orphans(tmp_path) == [orphan.pid]
        assert orphan.wait(timeout=30) is not None and kept.poll() is None
        assert sorted(p.name for p in records.iterdir()) == ["2.json"]
    finally:
        orphan.kill()
        kept.kill()
