"""A stop asked for in the main thread, honoured by training in other threads.

Signals reach only a process's main thread. ``sracl experiment --jobs N`` trains
in worker threads, so when its main thread is stopped (SIGTERM, Ctrl-C) it calls
:func:`request_stop`: each training loop, after its current step, writes its
resume checkpoint and raises :class:`StopRequested`, and the command exits within
a step instead of waiting hours for its runs to finish. The next start resumes
them from that checkpoint.
"""

from __future__ import annotations

import threading

_STOP = threading.Event()


class StopRequested(KeyboardInterrupt):
    """Raised in a worker thread that was asked to stop; a KeyboardInterrupt, so that
    Prefect and MLflow close its runs the way they do after Ctrl-C."""


def request_stop() -> None:
    _STOP.set()


def clear_stop() -> None:
    """Forget an earlier request (a new command in the same process starts afresh)."""
    _STOP.clear()


def stop_requested() -> bool:
    return _STOP.is_set()
