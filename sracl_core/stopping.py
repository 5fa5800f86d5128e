"""A stop asked for by a signal handler or a watcher thread, honoured by the training loop.

``sracl experiment --jobs N`` trains in worker processes (:mod:`flows.grid_processes`);
a worker calls :func:`request_stop` when it gets SIGINT or SIGTERM, when its command
is stopped or when its command is gone: the training loop, after its current step,
writes its resume checkpoint and raises :class:`StopRequested`, so the run ends within
a step instead of hours later. The next start resumes it from that checkpoint.
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
