"""Servers the tests start for real, on loopback only (Prefect, MLflow)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


@contextmanager
def loopback_server(command: Callable[[int], list[str]], health_path: str, log: Path,
                    env: dict[str, str] | None = None, wait_s: float = 300) -> Iterator[str]:
    """Start ``command(port)`` on a free 127.0.0.1 port, wait (at most ``wait_s``) until
    ``health_path`` answers 200, yield its base URL; the whole process group is stopped
    afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with log.open("wb") as output:
        server = subprocess.Popen(command(port), env=env, stdout=output,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    try:
        while True:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {health_path} in {wait_s} s: {log.read_text()[-3000:]}")
            if server.poll() is not None:
                raise AssertionError(f"the server exited: {log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}{health_path}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
