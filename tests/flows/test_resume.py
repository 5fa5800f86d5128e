"""A pipeline process killed (SIGKILL) while a stage writes resumes from the completed stages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

KILLED_RUN = """
import json, os, sys, time
from pathlib import Path

from flows.environment import configure_prefect

prefect_home, marker, stage, config_path, overrides = sys.argv[1:6]
configure_prefect(Path(prefect_home))
parent = os.getppid()

from sracl_core.artifacts import StageWriter

write_table = StageWriter.write_table


def write_then_hang(self, name, table):
    path = write_table(self, name, table)
    if self.directory.parent.name == stage:
        Path(marker).write_text(str(self.directory))
        while os.getppid() == parent:  # wait for SIGKILL; never outlive a dead test
            time.sleep(0.5)
        os._exit(1)
    return path


StageWriter.write_table = write_then_hang
from flows.pipeline import pipeline_flow

pipeline_flow(config_path=config_path, overrides=json.loads(overrides))
"""


def wait_for(marker: Path, process: subprocess.Popen[bytes], log: Path) -> str:
    """The temporary folder the stage was writing when it signalled; fails if the run died."""
    while not marker.is_file():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before the stage wrote: {log.read_text()[-3000:]}")
        time.sleep(0.5)
    return marker.read_text()


def test_a_run_killed_while_train_writes_resumes_with_train(harness: Any,
                                                            first_run: dict[str, Any],
                                                            tmp_path: Path):
    overrides = harness.overrides("train.objective.alpha=0.07")
    marker, log = tmp_path / "writing", tmp_path / "run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", KILLED_RUN, str(tmp_path / "prefect"), str(marker), "train",
             str(harness.config_path), json.dumps(overrides)],
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=Path(__file__).resolve().parents[2])
        try:
            temporary = Path(wait_for(marker, process, log))
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    train_dir = temporary.parent
    assert temporary.is_dir() and temporary.name.startswith(".tmp-")
    killed_fingerprint = temporary.name.removeprefix(".tmp-").split("-")[0]
    assert not (train_dir / killed_fingerprint).exists(), "nothing published for the killed stage"

    resumed = harness.run("train.objective.alpha=0.07")
    states = {row["stage"]: row["cached"] for row in resumed["stages"]}
    assert [stage for stage, was_cached in states.items() if not was_cached] == [
        "train", "evaluate"]
    assert all(states[row["stage"]] for row in first_run["stages"]
               if row["stage"] not in ("train", "evaluate"))
    train = next(row for row in resumed["stages"] if row["stage"] == "train")
    assert train["fingerprint"] == killed_fingerprint
    assert (train_dir / killed_fingerprint / "manifest.json").is_file()
    assert not temporary.exists(), "the killed run's temporary folder was cleaned up"
