"""Training epochs logged to the pipeline run as they end, from a thread of their own.

A long training then shows its curves in the MLflow UI while it runs, not only once
the stage is done. The calls go out from a background thread: a tracking server that
stops answering used to hold the training loop for MLflow's whole retry budget (four
minutes a call with its defaults), and now costs it nothing.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading

from mlflow.exceptions import MlflowException

from sracl_core.config import PipelineConfig
from sracl_core.rec.trainer import EpochReport
from sracl_core.stages.train import epochs_table
from sracl_core.tracking.batches import log_batch
from sracl_core.tracking.stages import epoch_metrics
from sracl_core.tracking.store import open_client

log = logging.getLogger(__name__)

CLOSE_WAIT_SECONDS = 30.0
"""How long the stage's end waits for epochs still on their way to the server."""


class LiveEpochs:
    """The ``on_epoch`` callback of a train stage: queue the epoch, return at once.

    It takes a run id rather than a :class:`~sracl_core.tracking.run.PipelineRun`, so a
    worker process can build it from the id the flow hands its task. A tracking failure
    never stops or slows training: it is logged once and logging stops; :meth:`close`
    says which epochs made it, and the others are filled in from the epoch table when the
    stage ends.
    """

    def __init__(self, config: PipelineConfig, run_id: str) -> None:
        self.client = open_client(config)
        self.run_id = run_id
        self.logged: list[int] = []
        self.failed = False
        self._queue: queue.Queue[tuple[int, int, dict[str, float]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def __call__(self, report: EpochReport) -> None:
        if self.failed:
            return
        [(step, values)] = epoch_metrics(epochs_table([report]))
        if self._thread is None:  # in the caller's context: its records reach the same log
            # handlers (Prefect's task-run logger among them) as the training's own
            self._thread = threading.Thread(target=contextvars.copy_context().run,
                                            args=(self._send,), name="sracl-live-epochs",
                                            daemon=True)
            self._thread.start()
        self._queue.put((report.epoch, step, values))

    def close(self, timeout: float = CLOSE_WAIT_SECONDS) -> tuple[int, ...]:
        """Wait (at most ``timeout``) for the queued epochs; the epochs logged."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            if self._thread.is_alive():
                self.failed = True
                log.warning("mlflow: live epoch logging still waits for the server after "
                            "%.0f s; the epochs it has not logged come from the epoch table",
                            timeout)
        return tuple(self.logged)

    def _send(self) -> None:
        while (item := self._queue.get()) is not None:
            epoch, step, values = item
            if self.failed:
                continue
            try:
                log_batch(self.client, self.run_id, metrics=values, step=step)
            except (MlflowException, OSError) as error:
                log.warning("mlflow: live epoch logging stopped at epoch %d: %s", epoch, error)
                self.failed = True
            else:
                self.logged.append(epoch)
