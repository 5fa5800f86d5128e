"""SIGINT and SIGTERM as exceptions, so a stopped command closes what it opened.

Python's default SIGTERM ends the process on the spot: no ``finally`` runs, the
MLflow run and the Prefect flow run stay RUNNING, and the temporary Prefect
server is left running under PID 1. Raised as :class:`Stopped` instead, the
signal unwinds the flow (which marks its runs), then the command stops its
server and exits with the shell's code for the signal (128 + its number).

Prefect installs its own SIGTERM handler while a flow runs; when that handler's
exception has unwound the flow, Prefect re-sends the signal to the handler it
replaced, which is ours, so the command still sees :class:`Stopped`.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from sracl_core.stopping import STOP_SIGNALS

SIGNALS = STOP_SIGNALS


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; a KeyboardInterrupt, so code that cleans up after Ctrl-C
    (Prefect's engine among it) cleans up after SIGTERM the same way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """130 for SIGINT, 143 for SIGTERM, as a shell reports a process the signal ended."""
        return 128 + self.signum


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextmanager
def signals_raise() -> Iterator[None]:
    """Inside: SIGINT and SIGTERM raise :class:`Stopped` (main thread only, like any handler)."""
    previous = {number: signal.signal(number, _raise_stopped) for number in SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def signals_ignored() -> Iterator[None]:
    """Inside: SIGINT and SIGTERM are ignored, so the short clean-up after a stop is not
    itself cut short (which would leave the server running after all)."""
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
