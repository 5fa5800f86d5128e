"""Which process owns an MLflow run, and closing the runs whose owner died unseen.

A run is closed by the process that opened it; one killed with ``kill -9`` (or
by the kernel's OOM killer) cannot, and its runs would say RUNNING forever.
Every run therefore carries its owner's host, PID and process start time, and
the next pipeline on the same store closes, as FAILED, the RUNNING runs whose
owner on this host is gone. The start time tells a reused PID from the owner.
Runs of other hosts are left alone: their processes cannot be seen from here.
"""

from __future__ import annotations

import logging
import os
import socket

import psutil
from mlflow import MlflowClient
from mlflow.entities import Run

log = logging.getLogger(__name__)

TAG_HOST = "sracl.owner.host"
TAG_PID = "sracl.owner.pid"
TAG_STARTED = "sracl.owner.started"
TAG_ABANDONED = "sracl.abandoned"


def owner_tags() -> dict[str, str]:
    """This process as a run's owner."""
    return {TAG_HOST: socket.gethostname(), TAG_PID: str(os.getpid()),
            TAG_STARTED: repr(psutil.Process().create_time())}


def owner_alive(tags: dict[str, str]) -> bool:
    """Whether the process these tags name still runs; True when it cannot be told
    (another host, or tags from before owners were recorded), so nothing is closed
    on a guess."""
    if tags.get(TAG_HOST) != socket.gethostname() or not tags.get(TAG_PID, "").isdigit():
        return True
    try:
        process = psutil.Process(int(tags[TAG_PID]))
        return (repr(process.create_time()) == tags.get(TAG_STARTED)
                and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True


def close_abandoned(client: MlflowClient, experiment_id: str) -> list[Run]:
    """Mark FAILED the RUNNING runs of this host whose owner is gone; returns them, so the
    caller can close what else they name (the orchestrator's flow run)."""
    runs = client.search_runs(
        [experiment_id],
        f"attributes.status = 'RUNNING' and tags.`{TAG_HOST}` = '{socket.gethostname()}'")
    abandoned = [run for run in runs if not owner_alive(run.data.tags)]
    for run in abandoned:
        note = (f"process {run.data.tags[TAG_PID]} on {run.data.tags[TAG_HOST]} ended without "
                f"closing this run; closed as FAILED by process {os.getpid()}")
        client.set_tag(run.info.run_id, TAG_ABANDONED, note)
        client.set_terminated(run.info.run_id, "FAILED")
        log.warning("mlflow: run %s: %s", run.info.run_id, note)
    return abandoned
