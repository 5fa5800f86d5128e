"""Shared pieces of docker/e2e.py: shell and HTTP calls, waiting, and pausing the host's
vLLM run while a container runs the pipeline."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ["docker", "compose", "-f", str(ROOT / "docker" / "compose.yaml")]
PREFECT = "http://127.0.0.1:4200/api"
MLFLOW = "http://127.0.0.1:5000"
SERVE_PORT = 5001
SUMMARY = re.compile(r"^(\d+) stages: (\d+) cached, (\d+) computed$", re.M)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAGES = 7
MODEL = "sracl-beauty-sample"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class Failed(Exception):
    """One check did not hold; the message says which and what was seen."""


def log(msg: str) -> None:
    print(f"e2e: {msg}", flush=True)


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise Failed(msg)


def sh(cmd: list[str], *, timeout: float = 600, capture: bool = True,
       ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command; with ok=True a non-zero exit is a failure showing its output's tail."""
    proc = subprocess.run(cmd, cwd=ROOT, text=True, timeout=timeout,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.STDOUT if capture else None)
    if ok and proc.returncode != 0:
        tail = (proc.stdout or "")[-3000:]
        raise Failed(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{tail}")
    return proc


def http(method: str, url: str, body: Any = None, timeout: float = 30) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def wait_for(what: str, probe, timeout: float, every: float = 2.0) -> Any:
    """Call probe() until it returns something truthy (exceptions count as not yet)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
            last = value
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(every)
    raise Failed(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


class Pause:
    """SIGSTOP a process group for the duration of a `with` block; always SIGCONT it."""

    def __init__(self, pgid: int | None) -> None:
        self.pgid = pgid
        self.watchdog: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Pause:
        if self.pgid:
            # Resumes the group if this process dies without running __exit__ (SIGKILL).
            self.watchdog = subprocess.Popen(
                ["bash", "-c", f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
                               f"kill -CONT -{self.pgid} 2>/dev/null || true"],
                start_new_session=True)
            os.killpg(self.pgid, signal.SIGSTOP)
            log(f"paused process group {self.pgid}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pgid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGCONT)
            log(f"resumed process group {self.pgid}")
            if self.watchdog:
                self.watchdog.terminate()
