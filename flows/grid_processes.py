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
the command's log file, and runs its calls as :mod:`flows.grid_worker` says.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from flows.console import log_file_of
from flows.grid_worker import STARTED, SharedState, call, worker_setup
from sracl_core.errors import WorkerDied


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
    failures: dict[int, BaseException] = {}
    todo = list(range(len(calls)))
    names = labels or [f"call {index}" for index in range(len(calls))]
    idle_deaths = 0
    with _prefect_api_for_workers():
        while todo:
            shared = SharedState.create(context, len(calls))  # a fresh pool starts unstopped
            futures = _one_pool(context, shared, run_one, calls, todo, jobs, keep_going)
            died = {index for index in todo if shared.call_states[index] == STARTED}
            todo = _outcomes(futures, died, names, keep_going, failures)
            idle_deaths = idle_deaths + 1 if todo and not died else 0
            if idle_deaths > int(keep_going):  # a worker that dies at every start would loop
                raise WorkerDied(
                    "a grid worker process died between runs (killed by a signal such as "
                    "SIGKILL, often the out-of-memory killer, or crashed); interrupted or not "
                    f"started: {', '.join(names[index] for index in todo)} (an interrupted "
                    "run resumes from its checkpoint when the command is run again)")
    return failures


def _one_pool(context: Any, shared: SharedState, run_one: Callable[..., None],
              calls: list[tuple[Any, ...]], todo: list[int], jobs: int, keep_going: bool
              ) -> dict[int, Future]:
    """Run the ``todo`` calls in one pool until each has ended (or, without ``keep_going``,
    until the first failure has stopped the others); returns their futures once every
    worker has ended, so that the call states tell which call a dead worker was running."""
    verbose = logging.getLogger("sracl_core").getEffectiveLevel() <= logging.DEBUG
    with ProcessPoolExecutor(
            max_workers=min(jobs, len(todo)), mp_context=context, initializer=worker_setup,
            initargs=(log_file_of(), verbose, shared, os.getpid(), keep_going)) as pool:
        futures = {index: pool.submit(call, run_one, os.getpid(), index, *calls[index])
                   for index in todo}
        try:
            wait(futures.values(), return_when=ALL_COMPLETED if keep_going else FIRST_EXCEPTION)
        except BaseException:
            _stop_all(shared, futures)
            raise
        errors = [_error(future) for future in futures.values()]
        if any(isinstance(error, BrokenProcessPool) for error in errors):
            shared.broken.value = True  # idle workers exit instead of waiting for a call
        if not keep_going and any(errors):
            _stop_all(shared, futures)
    return futures  # the pool has shut down: every worker has ended


def _stop_all(shared: SharedState, futures: dict[int, Future]) -> None:
    """Stop every running call after its step and cancel the queued ones."""
    shared.stop.value = True
    for future in futures.values():
        future.cancel()


def _error(future: Future) -> BaseException | None:
    """What a finished call raised (None while it runs, when cancelled, or on success)."""
    return future.exception() if future.done() and not future.cancelled() else None


def _outcomes(futures: dict[int, Future], died: set[int], names: list[str], keep_going: bool,
              failures: dict[int, BaseException]) -> list[int]:
    """Sort a finished pool's futures into failures (raised at once without ``keep_going``),
    stops (raised) and the calls that a dead worker's broken pool took down with it, which
    are returned to run again in a fresh pool (with ``keep_going``, or when no call's
    worker died: the caller decides)."""
    again: list[int] = []
    stops: list[KeyboardInterrupt] = []
    for index, future in futures.items():
        error = _error(future)
        if isinstance(error, BrokenProcessPool):
            if index not in died:
                again.append(index)
                continue
            error = WorkerDied(f"{names[index]}: its worker process died (killed by a signal "
                               "such as SIGKILL, often the out-of-memory killer, or crashed) "
                               "while running it")
        if isinstance(error, KeyboardInterrupt):
            stops.append(error)
        elif error is not None:
            if not keep_going:
                raise error
            failures[index] = error
    if stops:
        raise stops[0]
    return again if keep_going or not died else []
