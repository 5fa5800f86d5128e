"""Servers left by dead commands are stopped; a live command's server and others are kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

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


class _DyingServerFake:
    """Stands in for Prefect's SubprocessASGIServer: every server it starts exits at once;
    with ``moves``, a restart lands on another port, as Prefect's does when the old one
    was taken meanwhile."""

    def __init__(self, moves: bool = False) -> None:
        self.port, self.moves, self.running, self.starts, self.stopped = 8123, moves, True, 0, 0
        self.server_process = subprocess.Popen([sys.executable, "-c", "pass"])

    def start(self) -> None:
        self.starts += 1
        self.port += self.moves
        self.server_process = subprocess.Popen([sys.executable, "-c", "pass"])
        self.running = True

    def stop(self) -> None:
        self.stopped += 1


@pytest.mark.parametrize("moves", [False, True], ids=["keeps-dying", "port-taken"])
def test_a_restarted_server_that_dies_again_or_moves_port_is_given_up_fake_server(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        moves: bool) -> None:
    """Restarted for ever, a server the machine keeps killing would cost a start every
    second; one that moved port would be unreachable for the runs, which know the old one."""
    import flows.prefect_server as prefect_server

    monkeypatch.setattr(prefect_server, "WATCH_SECONDS", 0.05)
    server = _DyingServerFake(moves)
    watchdog = prefect_server._Watchdog(server, tmp_path / "record.json")  # type: ignore[arg-type]
    with caplog.at_level("WARNING", logger="flows.prefect_server"):
        watchdog.start()
        watchdog.join(timeout=60)
    assert not watchdog.is_alive()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    if moves:
        assert (server.starts, server.stopped) == (1, 1)
        assert errors == ["prefect: port 8123 was taken while the temporary server was down, "
                          "and its runs cannot follow it to port 8124: stop the command and "
                          "run it again (what finished is cached)"]
    else:
        assert server.starts == prefect_server.MAX_RESTARTS
        assert len(errors) == 1 and "4 times now; it is not started again" in errors[0]
