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
to it, a stop of the command (its main thread sets a shared event) or the
command's death make its training loop write a resume checkpoint after the
current step and end the run.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flows.console import configure_logging, log_file_of
from sracl_core.stopping import request_stop, stop_requested

PARENT_CHECK_SECONDS = 5.0
"""How often a worker looks whether the command that started it is still there."""

_BUSY = threading.Event()
"""Set while this worker runs a call: an orphaned worker ends once the call has stopped."""

_GRID_STOP: Any = threading.Event()
"""In a worker, the grid's shared stop event (set by :func:`_worker_setup`)."""


def _stop_when(stop: Any, parent_pid: int) -> None:
    """Stop the running call when asked; when the command is gone, also end this process
    (its pool would never send another call, and the worker would wait for one forever)."""
    while not stop.wait(PARENT_CHECK_SECONDS):
        if os.getppid() != parent_pid:
            request_stop()
            if not _BUSY.is_set():
                os._exit(1)
            return
    request_stop()


def _call(run_one: Callable[..., None], parent_pid: int, *args: Any) -> bool:
    """``run_one(*args)`` in a worker; False when the grid or this worker had been stopped
    before it began (before, a worker stopped by SIGTERM started the next queued run).

    A failure sets the grid's stop event before it is reported, so that this worker does
    not start the next queued call (the pool hands it over before the command could
    react) and the other workers stop theirs. An orphaned worker exits once it has stopped.
    """
    if _GRID_STOP.is_set() or stop_requested():  # a signal to this worker counts as a stop
        return False
    _BUSY.set()
    try:
        _in_a_thread(run_one, *args)
    except BaseException:
        _GRID_STOP.set()
        raise
    finally:
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


def _worker_setup(log_path: Path | None, verbose: bool, stop: Any, parent_pid: int) -> None:
    global _GRID_STOP
    _GRID_STOP = stop
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


def run_in_processes(run_one: Callable[..., None], calls: list[tuple[Any, ...]],
                     jobs: int) -> None:
    """``run_one(*call)`` for every call, ``jobs`` worker processes at a time.

    The first failure (or a stop of this command) stops the others at their next training
    step, each with its resume checkpoint, starts no queued call, and is raised here once
    the running calls have ended.
    """
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    verbose = logging.getLogger("sracl_core").getEffectiveLevel() <= logging.DEBUG
    with _prefect_api_for_workers(), ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=_worker_setup,
            initargs=(log_file_of(), verbose, stop, os.getpid())) as pool:
        futures = [pool.submit(_call, run_one, os.getpid(), *call) for call in calls]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                if future.done() and not future.cancelled() and future.exception():
                    raise future.exception()
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise
