"""Concurrent grid runs on this machine, each in a process of its own.

Why not threads of one process: torch has one default random generator per
process. Two runs training in threads drew their dropout masks from it in turn,
and each run's ``seed_everything`` reset the other's stream, so a run's numbers
depended on its neighbour's timing; they matched neither the same run alone
(``--jobs 1``) nor a repeat of the grid, and a checkpoint's saved RNG state was
the mixture. In a process of its own a run's random streams, its resume state and
its torch thread count are its own, so ``--jobs 2`` gives the bits of ``--jobs 1``.

The workers are spawned (not forked: the parent holds Prefect's event loops and
MLflow's connections). Each joins the command's temporary Prefect server, logs to
the command's log file, and stops like a training thread did: SIGINT or SIGTERM
to it, a stop of the command (its main thread sets a shared flag) or the
command's death make its training loop write a resume checkpoint after the
current step and end the run.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flows.console import configure_logging, log_file_of
from sracl_core.errors import WorkerDied
from sracl_core.stopping import request_stop, stop_requested

CHECK_SECONDS = 1.0
"""How often a worker looks whether the grid was stopped and whether the command that
started it is still there."""

_BUSY = threading.Event()
"""Set while this worker runs a call: an orphaned worker ends once the call has stopped."""

_GRID_STOP: Any = None
"""In a worker, the grid's shared stop flag (set by :func:`_worker_setup`).

A flag in shared memory, polled, not a ``multiprocessing.Event``: a worker killed while
it waited on the Event stayed counted as a waiter, and the command's ``set()`` then
waited forever for it to wake, holding the Event's lock, so that every other worker
hung too."""

_CALL_STATES: Any = None
"""In a worker, one byte per call in shared memory: :data:`STARTED` or :data:`ENDED`
(the command reads it to tell which call a dead worker was running). Each call's byte
has one writer, so no lock that a dying worker could leave held."""

STARTED, ENDED = 1, 2

_KEEP_GOING = False
"""In a worker: whether a failed call leaves the other calls running."""


def _stop_when(stop: Any, parent_pid: int) -> None:
    """Stop the running call when asked; when the command is gone, also end this process
    (its pool would never send another call, and the worker would wait for one forever)."""
    while not stop.value:
        time.sleep(CHECK_SECONDS)
        if os.getppid() != parent_pid:
            request_stop()
            if not _BUSY.is_set():
                os._exit(1)
            return
    request_stop()


def _call(run_one: Callable[..., None], parent_pid: int, index: int, *args: Any) -> bool:
    """``run_one(*args)`` in a worker; False when the grid or this worker had been stopped
    before it began (before, a worker stopped by SIGTERM started the next queued run).

    A failure sets the grid's stop event before it is reported, so that this worker does
    not start the next queued call (the pool hands it over before the command could
    react) and the other workers stop theirs; with ``keep_going`` only a stop does. The
    call's ``index`` goes to the command when it starts and when it ends, so that a worker
    that dies in between is known by the call it was running. An orphaned worker exits
    once it has stopped.
    """
    if _GRID_STOP.value or stop_requested():  # a signal to this worker counts as a stop
        return False
    _BUSY.set()
    _CALL_STATES[index] = STARTED
    try:
        _in_a_thread(run_one, *args)
    except BaseException:
        if not _KEEP_GOING or stop_requested():
            _GRID_STOP.value = True
        raise
    finally:
        _CALL_STATES[index] = ENDED
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
    after the current step (:func:`_worker_setup`); the main thread only waits.
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


def _worker_setup(log_path: Path | None, verbose: bool, stop: Any, parent_pid: int,
                  call_states: Any, keep_going: bool) -> None:
    global _GRID_STOP, _CALL_STATES, _KEEP_GOING
    _GRID_STOP, _CALL_STATES, _KEEP_GOING = stop, call_states, keep_going
    configure_logging(log_path, verbose=verbose)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda signum, _: request_stop(signum))
    threading.Thread(target=_stop_when, args=(stop, parent_pid), daemon=True,
                     name="sracl-stop-watch").start()


@contextmanager
def _prefect_api_for_workers() -> Iterator[None]:
    """Point spawned workers at this command's temporary Prefect server (inherited from the
    environment), so that they do not each start one of their own."""
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    if not server.running:
        yield
        return
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)


def run_in_processes(run_one: Callable[..., None], calls: list[tuple[Any, ...]], jobs: int,
                     *, keep_going: bool = False, labels: list[str] | None = None
                     ) -> dict[int, BaseException]:
    """``run_one(*call)`` for every call, ``jobs`` worker processes at a time; returns the
    failed calls' errors by index (only with ``keep_going``: else the first is raised).

    The first failure (or a stop of this command) stops the others at their next training
    step, each with its resume checkpoint, starts no queued call, and is raised here once
    the running calls have ended. With ``keep_going`` a failure leaves the other calls
    running and queued (a stop still stops them all). A worker that dies (SIGKILL, the
    out-of-memory killer) breaks the pool, which stops the others: its call is a
    :class:`WorkerDied`, and with ``keep_going`` the calls it interrupted or never started
    go on in a fresh pool (an interrupted run resumes from its checkpoint). ``labels`` name
    the calls in errors (default: "call N").
    """
    context = multiprocessing.get_context("spawn")
    stop = context.RawValue(ctypes.c_bool, False)
    call_states = context.RawArray(ctypes.c_byte, len(calls))
    failures: dict[int, BaseException] = {}
    todo = list(range(len(calls)))
    names = labels or [f"call {index}" for index in range(len(calls))]
    with _prefect_api_for_workers():
        while todo:
            futures = _one_pool(context, stop, call_states, run_one, calls, todo, jobs,
                                keep_going)
            died = {index for index in todo if call_states[index] == STARTED}
            todo = _outcomes(futures, died, names, keep_going, failures)
    return failures


def _one_pool(context: Any, stop: Any, call_states: Any, run_one: Callable[..., None],
              calls: list[tuple[Any, ...]], todo: list[int], jobs: int, keep_going: bool
              ) -> dict[int, Future]:
    """Run the ``todo`` calls in one pool until each has ended (or, without ``keep_going``,
    until the first failure has stopped the others); returns their futures once every
    worker has ended, so that ``call_states`` tells which calls a dead worker was running."""
    verbose = logging.getLogger("sracl_core").getEffectiveLevel() <= logging.DEBUG
    for index in todo:
        call_states[index] = 0
    with ProcessPoolExecutor(
            max_workers=min(jobs, len(todo)), mp_context=context, initializer=_worker_setup,
            initargs=(log_file_of(), verbose, stop, os.getpid(), call_states,
                      keep_going)) as pool:
        futures = {index: pool.submit(_call, run_one, os.getpid(), index, *calls[index])
                   for index in todo}
        try:
            wait(futures.values(), return_when=ALL_COMPLETED if keep_going else FIRST_EXCEPTION)
        except BaseException:
            _stop_all(stop, futures)
            raise
        if not keep_going and any(_error(future) for future in futures.values()):
            _stop_all(stop, futures)
    return futures  # the pool has shut down: every worker has ended


def _stop_all(stop: Any, futures: dict[int, Future]) -> None:
    stop.value = True
    for future in futures.values():
        future.cancel()


def _error(future: Future) -> BaseException | None:
    return future.exception() if future.done() and not future.cancelled() else None


def _outcomes(futures: dict[int, Future], died: set[int], names: list[str], keep_going: bool,
              failures: dict[int, BaseException]) -> list[int]:
    """Sort a finished pool's futures into failures (raised at once without ``keep_going``),
    stops (raised) and the calls that a dead worker's broken pool took down with it, which
    are returned to run again in a fresh pool (only with ``keep_going``)."""
    again, stops = [], []
    for index, future in futures.items():
        error = _error(future)
        if isinstance(error, BrokenProcessPool):
            if index not in died:
                again.append(index)
                continue
            error = WorkerDied(index, names[index])
        if isinstance(error, KeyboardInterrupt):
            stops.append(error)
        elif error is not None:
            if not keep_going:
                raise error
            failures[index] = error
    if stops:
        raise stops[0]
    if again and not died:  # it died outside any call: running them again would loop
        raise BrokenProcessPool("a grid worker process died while starting or between runs; "
                                f"not started: {', '.join(names[index] for index in again)}")
    return again if keep_going else []
