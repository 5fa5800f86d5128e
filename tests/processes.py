"""Real processes for the cache's concurrency tests: start a script, wait for its signal.

Overlap is arranged with files (a process writes one, another waits for it), never
with sleeps of a guessed length; every wait has a deadline so a broken run fails
instead of hanging the suite.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEADLINE_S = 120.0

FILE_BARRIER = '''
def file_barrier(folder, me, parties):
    """Block until ``parties`` processes have reached this line (a file each)."""
    import time
    from pathlib import Path
    Path(folder).mkdir(parents=True, exist_ok=True)
    Path(folder, str(me)).touch()
    deadline = time.monotonic() + 120
    while len(list(Path(folder).iterdir())) < parties and time.monotonic() < deadline:
        time.sleep(0.01)
'''
"""Source of a helper the scripts paste in: children cannot import the tests package."""


def start(script: str, *args: object, log: Path) -> subprocess.Popen[bytes]:
    """Run ``script`` in a fresh interpreter from the project root, output into ``log``."""
    with log.open("wb") as output:
        return subprocess.Popen([sys.executable, "-c", script, *map(str, args)],
                                stdout=output, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)


def finish(process: subprocess.Popen[bytes], log: Path) -> str:
    """Wait for the process; its output, for assertions and failure messages."""
    process.wait(timeout=DEADLINE_S)
    return log.read_text()


def wait_for_file(path: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``path`` exists; fails at once if the process ended first."""
    deadline = time.monotonic() + DEADLINE_S
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the process ended before writing {path}: {log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {path} after {DEADLINE_S} s: {log.read_text()}")
        time.sleep(0.02)


def dead_pid() -> int:
    """A PID with no process behind it here, like one recorded in another PID namespace."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)
