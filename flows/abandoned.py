"""Closing the Prefect flow runs of pipelines whose process died unseen (``kill -9``).

Prefect 3 notices no such death for a flow run started from a shell: it stays
RUNNING. The MLflow store already knows which runs were abandoned (their owner
process is gone, see :mod:`sracl_core.tracking.owner`), and each names its flow
run, so the next pipeline marks those flow runs Crashed too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from uuid import UUID

from mlflow.entities import Run
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.states import Crashed

log = logging.getLogger(__name__)

FLOW_RUN_TAG = "prefect.flow_run_id"


def crash_flow_runs(runs: Iterable[Run]) -> list[str]:
    """Mark Crashed the still-running flow runs these abandoned MLflow runs name; returns
    their ids. A flow run this server does not know (another Prefect home) is skipped."""
    crashed: list[str] = []
    runs = list(runs)
    if not runs:
        return crashed
    with get_client(sync_client=True) as client:
        for run in runs:
            flow_run_id = run.data.tags.get(FLOW_RUN_TAG)
            if not flow_run_id:
                continue
            try:
                flow_run = client.read_flow_run(UUID(flow_run_id))
            except (ObjectNotFound, ValueError):
                continue
            if flow_run.state is None or flow_run.state.is_final():
                continue
            client.set_flow_run_state(flow_run.id, Crashed(
                message=f"its process ended without closing it (MLflow run {run.info.run_id})"),
                force=True)
            log.warning("prefect: flow run %s of an ended process marked Crashed", flow_run_id)
            crashed.append(flow_run_id)
    return crashed
