"""A stop asked for by a signal handler or a watcher thread, honoured by the training loop.

The training loop checks :func:`stop_requested` after every step; when it is set, it
writes its resume checkpoint and raises :class:`StopRequested`, so the run ends within
a step and the next start resumes it from exactly there. Two things ask for a stop:

- in ``sracl experiment --jobs N`` worker processes (:mod:`flows.grid_processes`), the
  worker's SIGINT or SIGTERM handler, a stop of its command, or its command's death;
- in a command that trains in its main thread (``sracl run``, ``--jobs 1``), the
  handler that :func:`signals_stop_after_step` installs while training. Without it,
  Prefect's SIGTERM handler (or ours for SIGINT) raised in the middle of a step, where
  no consistent checkpoint can be written, and the run lost every step since its last
  periodic checkpoint.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_STOP = threading.Event()
_SIGNALS_SEEN: list[int] = []


class StopRequested(KeyboardInterrupt):
    """Raised by the training loop that was asked to stop; a KeyboardInterrupt, so that
    Prefect and MLflow close its runs the way they do after Ctrl-C."""


def request_stop(signum: int | None = None) -> None:
    """Ask the training loop to stop after its current step (``signum``: the signal that asked)."""
    if signum is not None:
        _SIGNALS_SEEN.append(signum)
    _STOP.set()


def clear_stop() -> None:
    """Forget an earlier request (a new command in the same process starts afresh)."""
    _STOP.clear()
    _SIGNALS_SEEN.clear()


def stop_requested() -> bool:
    return _STOP.is_set()


def stop_signal() -> int | None:
    """The signal behind the stop request, if a signal made it (for the command's exit code)."""
    return _SIGNALS_SEEN[0] if _SIGNALS_SEEN else None


@contextmanager
def signals_stop_after_step(enabled: bool = True) -> Iterator[None]:
    """Inside: the first SIGINT or SIGTERM asks the training loop to stop after its step;
    a second one is handled as it was outside (an impatient user still stops at once).

    A no-op outside the main thread (Python runs handlers only there; grid workers
    install their own) and when not ``enabled`` (torchrun ranks, which must stop at the
    same step: each keeps its previous handling)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}

    def restore() -> None:
        for number, handler in previous.items():
            if handler is not None:  # None: installed outside Python, left as it is
                signal.signal(number, handler)

    pending: list[int] = []

    def first_stops_after_step(signum: int, frame: FrameType | None) -> None:
        if stop_requested():
            pending.clear()  # the handler outside is told now, once
            restore()
            signal.raise_signal(signum)
            return
        pending.append(signum)
        request_stop(signum)

    for number in STOP_SIGNALS:
        signal.signal(number, first_stops_after_step)
    try:
        yield
    finally:
        restore()
    if pending:  # it came after the last step (training ended anyway): honour it now
        clear_stop()
        signal.raise_signal(pending[0])
