"""The temporary Prefect server of one command: started one at a time, recorded, never left.

Without ``PREFECT_API_URL`` Prefect starts a server in a subprocess, on the
database in its home, when a flow first needs it. Two commands starting
together on a new home both migrated that database at once and one crashed
(``duplicate column name: has_data``); and a command killed with ``kill -9``
left its server running under PID 1 for good. So the command starts the server
itself, before the flow, under a lock in the Prefect home (the migrations finish
before the server answers, so the next command finds the schema done), and
writes the server's PID to ``<home>/servers/<owner pid>.json``. Whoever takes
the lock next stops the servers whose owner is gone. The flow then finds the
server running and uses it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from filelock import FileLock

from flows.shutdown import signals_ignored

if TYPE_CHECKING:
    from prefect.server.api.server import SubprocessASGIServer

log = logging.getLogger(__name__)

SERVERS = "servers"
DRAIN_SECONDS = 10
"""How long the last logs and events may take to reach the server before it stops."""
WATCH_SECONDS = 1.0
"""How often the command looks whether its server is still there."""
MAX_RESTARTS = 3
"""A server that keeps dying (memory the machine cannot give it) is not started for ever."""
RESTART_WAIT_SECONDS = 30
"""How long the command's end waits for a restart under way."""


def _identity(process: psutil.Process) -> dict[str, float | int]:
    return {"pid": process.pid, "started": process.create_time()}


def _running(identity: dict[str, float | int]) -> psutil.Process | None:
    """The process ``identity`` names, if it still runs (a reused PID is someone else)."""
    try:
        process = psutil.Process(int(identity["pid"]))
        if process.create_time() == identity["started"] and \
                process.status() != psutil.STATUS_ZOMBIE:
            return process
    except psutil.Error:
        pass
    return None


def stop_orphans(home: Path) -> list[int]:
    """Stop the servers whose owning command is gone; returns their PIDs."""
    stopped = []
    for record_path in sorted((home / SERVERS).glob("*.json")):
        try:
            record = json.loads(record_path.read_text())
        except (OSError, ValueError):
            record_path.unlink(missing_ok=True)
            continue
        if _running(record["owner"]) is not None:
            continue
        server = _running(record["server"])
        if server is not None:
            log.warning("prefect: stopping server %d left by ended process %d", server.pid,
                        record["owner"]["pid"])
            server.terminate()
            try:
                server.wait(timeout=10)
            except psutil.TimeoutExpired:
                server.kill()
            stopped.append(server.pid)
        record_path.unlink(missing_ok=True)
    return stopped


@contextmanager
def temporary_server(home: Path) -> Iterator[None]:
    """Prefect's temporary server for the duration of the block (nothing when Prefect is
    pointed at a server, or may not start one); on leaving it the last logs are sent and
    the server is stopped."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        yield
        return

    server = SubprocessASGIServer()
    if server.running:  # this process started it already (a test session): not ours to stop
        yield
        return
    record_path = home / SERVERS / f"{os.getpid()}.json"
    record_path.parent.mkdir(parents=True, exist_ok=True)
    watchdog = _Watchdog(server, record_path)
    try:
        with FileLock(home / "server.lock"):
            stop_orphans(home)
            with _own_session():
                server.start()
            watchdog.record()
        watchdog.start()
        yield
    finally:
        with signals_ignored():
            watchdog.stop()
            _stop(server)
            record_path.unlink(missing_ok=True)


class _Watchdog(threading.Thread):
    """Starts the command's server again, on the same port, when it dies.

    A server killed under a running command (the out-of-memory killer, a ``pkill``) left
    the flow retrying it: training stalled ~20 s every few epochs while Prefect's log and
    event workers waited on the dead port, its errors scrolled over the console, and a
    stop then hung on reporting. The database is a file in the Prefect home, so a new
    server on the same port carries on with the same runs, and the clients reconnect.
    """

    def __init__(self, server: SubprocessASGIServer, record_path: Path) -> None:
        super().__init__(name="sracl-prefect-watchdog", daemon=True)
        self._server, self._record_path = server, record_path
        self._stopping = threading.Event()

    def record(self) -> None:
        """Write who owns the server, so a later command can stop it if this one dies."""
        assert self._server.server_process is not None
        try:
            server = _identity(psutil.Process(self._server.server_process.pid))
        except psutil.Error:  # gone already: the next look starts it again
            return
        self._record_path.write_text(json.dumps({"owner": _identity(psutil.Process()),
                                                 "server": server}))

    def run(self) -> None:
        restarts = 0
        while not self._stopping.wait(WATCH_SECONDS):
            process = self._server.server_process
            if process is None or process.poll() is None:
                continue
            if restarts == MAX_RESTARTS:
                log.error("prefect: the temporary server (pid %d) ended with code %s, %d "
                          "times now; it is not started again: stop the command and run it "
                          "again (what finished is cached)", process.pid, process.returncode,
                          restarts + 1)
                return
            restarts += 1
            log.warning("prefect: the temporary server (pid %d) ended with code %s; starting "
                        "it again on port %s", process.pid, process.returncode,
                        self._server.port)
            if not self._restart():
                return

    def _restart(self) -> bool:
        """A new server on the old port; False (and no server) when that cannot be had: the
        flow's clients and the grid's workers know only that port."""
        port = self._server.port
        self._server.running = False  # what SubprocessASGIServer.start() checks
        try:
            with _own_session():
                self._server.start()
        except Exception as error:  # the flow's own calls will fail and say why
            log.error("prefect: the temporary server could not be started again: %s", error)
            return False
        if self._server.port != port:  # Prefect moves on when the port is taken meanwhile
            log.error("prefect: port %s was taken while the temporary server was down, and "
                      "its runs cannot follow it to port %s: stop the command and run it "
                      "again (what finished is cached)", port, self._server.port)
            self._server.stop()
            return False
        self.record()
        return True

    def stop(self) -> None:
        """Stop watching (before the server is stopped on purpose); a restart under way
        gets the time Prefect gives a server to start."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=RESTART_WAIT_SECONDS)


class _InOwnSession(subprocess.Popen):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("start_new_session", True)
        super().__init__(*args, **kwargs)


@contextmanager
def _own_session() -> Iterator[None]:
    """Processes started inside lead a session of their own.

    Prefect starts its server with a plain ``subprocess.Popen``, so a terminal's Ctrl-C
    (SIGINT to the whole foreground process group) killed the server at the same moment
    as it stopped the command, which then spent a minute retrying the dead server to
    record the stop, and failed with a ConnectError. In its own session the server hears
    only this command, which stops it after the flow has said how it ended.
    """
    original = subprocess.Popen
    subprocess.Popen = _InOwnSession  # type: ignore[misc]
    try:
        yield
    finally:
        subprocess.Popen = original  # type: ignore[misc]


def _stop(server: SubprocessASGIServer) -> None:
    """Send what the flow still has queued for the server, then stop it."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    if server.running:
        APILogWorker.drain_all(timeout=DRAIN_SECONDS)
        EventsWorker.drain_all(timeout=DRAIN_SECONDS)
    server.stop()
