"""The worker side of :mod:`flows.grid_processes`: what runs in each spawned grid process.

A worker runs one call at a time and stops like a training thread did: SIGINT or SIGTERM
to it, a stop of the grid (a flag the command sets) or the command's death make its
training loop write a resume checkpoint after the current step and end the run.

Everything the command and its workers share lives in shared memory as plain flags and
bytes, read by polling, never behind a lock: a worker can die at any moment (SIGKILL, the
out-of-memory killer), and one killed while it waited on a ``multiprocessing.Event`` stayed
counted as a waiter, so the command's ``set()`` waited forever for it to wake, holding the
Event's lock, and every other worker hung too.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.console import configure_logging
from sracl_core.stopping import request_stop, stop_requested

CHECK_SECONDS = 1.0
"""How often a worker looks at the shared flags and whether its command is still there."""

STARTED, ENDED = 1, 2
"""A call's byte in :attr:`SharedState.call_states` (0: not started)."""


@dataclass(frozen=True)
class SharedState:
    """The command's state that its workers read and write, in shared memory.

    ``stop``: the grid is stopping (a failure without ``keep_going``, or a stop); every
    worker stops its run after the step and starts no further call. ``broken``: a worker of
    this pool died, so the pool is being torn down; an idle worker exits at once, since one
    blocked on the pool's call queue may wait forever behind a lock the dead one held.
    ``call_states``: one byte per call, written only by the worker running it, so that the
    command can tell which call a dead worker was running.
    """

    stop: Any
    broken: Any
    call_states: Any

    @classmethod
    def create(cls, context: Any, calls: int) -> SharedState:
        return cls(context.RawValue(ctypes.c_bool, False), context.RawValue(ctypes.c_bool, False),
                   context.RawArray(ctypes.c_byte, calls))


_BUSY = threading.Event()
"""Set while this worker runs a call: a worker with nothing left to do ends once it is clear."""

_SHARED: SharedState | None = None
"""In a worker, the command's :class:`SharedState` (set by :func:`worker_setup`)."""

_KEEP_GOING = False
"""In a worker: whether a failed call leaves the other calls running."""


def worker_setup(log_path: Path | None, verbose: bool, shared: SharedState, parent_pid: int,
                 keep_going: bool) -> None:
    """The pool's initializer: logging, signal handlers that ask for a stop, the watcher."""
    global _SHARED, _KEEP_GOING
    _SHARED, _KEEP_GOING = shared, keep_going
    configure_logging(log_path, verbose=verbose)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda signum, _: request_stop(signum))
    threading.Thread(target=_watch, args=(shared, parent_pid), daemon=True,
                     name="sracl-stop-watch").start()


def _watch(shared: SharedState, parent_pid: int) -> None:
    """Stop the running call when the grid stops, the pool breaks or the command is gone; in
    the last two cases also end this process once it is idle: a gone command's pool would
    never send another call, and a broken pool's next call may never be read."""
    while True:
        time.sleep(CHECK_SECONDS)
        orphaned = os.getppid() != parent_pid
        if orphaned or shared.stop.value or shared.broken.value:
            request_stop()
        if (orphaned or shared.broken.value) and not _BUSY.is_set():
            os._exit(1)


def call(run_one: Callable[..., None], parent_pid: int, index: int, *args: Any) -> bool:
    """``run_one(*args)`` in a worker; False when the grid or this worker had been stopped
    before it began (before, a worker stopped by SIGTERM started the next queued run).

    A failure sets the grid's stop flag before it is reported, so that this worker does
    not start the next queued call (the pool hands it over before the command could
    react) and the other workers stop theirs; with ``keep_going`` only a stop does. The
    call's byte says when it started and ended, so that a worker that dies in between is
    known by the call it was running. An orphaned worker exits once it has stopped.
    """
    assert _SHARED is not None, "worker_setup runs first"
    if _SHARED.stop.value or stop_requested():  # a signal to this worker counts as a stop
        return False
    _BUSY.set()
    _SHARED.call_states[index] = STARTED
    try:
        _in_a_thread(run_one, *args)
    except BaseException:
        if not _KEEP_GOING or stop_requested():
            _SHARED.stop.value = True
        raise
    finally:
        _SHARED.call_states[index] = ENDED
        _BUSY.clear()
        if os.getppid() != parent_pid:
            os._exit(1)
    return True


def _in_a_thread(run_one: Callable[..., None], *args: Any) -> None:
    """``run_one(*args)`` in a thread of this worker, its exception re-raised here.

    Prefect installs its own SIGTERM handler, which raises inside whatever the main thread
    is doing, while a flow runs in the main thread. A SIGTERM to the whole process group
    (``kill -- -PGID``, ``timeout``, a service manager) then broke the training step off
    with no resume checkpoint, losing the steps since the last periodic one. Outside the
    main thread Prefect installs nothing, so the signal stays this worker's request to stop
    after the current step (:func:`worker_setup`); the main thread only waits.
    """
    failure: list[BaseException] = []

    def target() -> None:
        try:
            run_one(*args)
        except BaseException as error:  # handed to the main thread, which raises it
            failure.append(error)

    thread = threading.Thread(target=target, name="sracl-grid-run")
    thread.start()
    while thread.is_alive():
        thread.join(timeout=1.0)
    if failure:
        raise failure[0]
