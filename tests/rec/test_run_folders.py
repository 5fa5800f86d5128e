"""Each training run checkpoints into its own folder; a killed run's folder is resumed."""

from __future__ import annotations

from pathlib import Path

import torch

from sracl_core.rec.checkpoint import load_train_state
from sracl_core.rec.run_folders import remove_finished, run_folder
from tests.processes import FILE_BARRIER, finish, start, wait_for_file

CHECKPOINTING_RUN = FILE_BARRIER + """
import os, signal, sys, time
from pathlib import Path
import torch
from sracl_core.rec.checkpoint import save_train_state
from sracl_core.rec.run_folders import run_folder

root, locks, barrier, me, steps, then = sys.argv[1:7]
module = torch.nn.Linear(4, 4)
optimizer = torch.optim.Adam(module.parameters())
with run_folder(Path(root), Path(locks)) as folder:
    print("FOLDER", folder, flush=True)
    file_barrier(barrier, me, 2 if then == "race" else 1)  # all runs hold a folder first
    for step in range(int(steps)):
        save_train_state(folder / "last", module, optimizer, {"cpu": torch.get_rng_state()},
                         {"writer": me, "step": step})
    if then == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if then == "hold":
        Path(barrier, "holding").touch()
        while not Path(barrier, "go").exists():
            time.sleep(0.02)
"""


def _folder(output: str) -> Path:
    return Path(output.split("FOLDER ", 1)[1].split()[0])


def _state(folder: Path) -> dict:
    module = torch.nn.Linear(4, 4)
    _, progress = load_train_state(folder / "last", module, torch.optim.Adam(module.parameters()),
                                   torch.device("cpu"))
    return progress


def test_two_concurrent_runs_of_one_fingerprint_checkpoint_apart(tmp_path: Path):
    root, locks = tmp_path / ".checkpoints" / "fp", tmp_path / ".locks" / "fp"
    logs = [tmp_path / f"run{me}.log" for me in (0, 1)]
    runs = [start(CHECKPOINTING_RUN, root, locks, tmp_path / "barrier", me, 150, "race", log=log)
            for me, log in enumerate(logs)]
    outputs = [finish(run, log) for run, log in zip(runs, logs, strict=True)]
    assert [run.returncode for run in runs] == [0, 0], outputs
    folders = [_folder(output) for output in outputs]
    assert folders[0] != folders[1]
    for me, folder in enumerate(folders):
        assert _state(folder) == {"writer": str(me), "step": 149}


def test_a_run_killed_mid_training_is_resumed_from_its_folder(tmp_path: Path):
    root, locks, log = tmp_path / ".checkpoints" / "fp", tmp_path / ".locks" / "fp", \
        tmp_path / "killed.log"
    killed = start(CHECKPOINTING_RUN, root, locks, tmp_path / "barrier", 0, 8, "kill", log=log)
    output = finish(killed, log)
    assert killed.returncode == -9, output
    with run_folder(root, locks) as folder:
        assert folder == _folder(output)
        assert _state(folder) == {"writer": "0", "step": 7}


def test_a_live_runs_folder_is_neither_adopted_nor_removed(tmp_path: Path):
    root, locks, log = tmp_path / ".checkpoints" / "fp", tmp_path / ".locks" / "fp", \
        tmp_path / "live.log"
    barrier = tmp_path / "barrier"
    live = start(CHECKPOINTING_RUN, root, locks, barrier, 0, 3, "hold", log=log)
    wait_for_file(barrier / "holding", live, log)
    remove_finished(root, locks)
    with run_folder(root, locks) as mine:
        (barrier / "go").touch()
        output = finish(live, log)
        assert live.returncode == 0, output
        assert mine != _folder(output)
    assert _state(_folder(output)) == {"writer": "0", "step": 2}


def test_a_finished_runs_checkpoints_are_removed_as_such(tmp_path: Path, caplog):
    """Before, the log line called them "left by a run that ended without finishing"."""
    root, locks = tmp_path / ".checkpoints" / "fp", tmp_path / ".locks" / "fp"
    with run_folder(root, locks) as folder:
        (folder / "marker").write_text("done")
    with caplog.at_level("INFO", logger="sracl_core.owned_folders"):
        remove_finished(root, locks)
    assert not root.exists()
    assert [record.getMessage() for record in caplog.records] == [
        f"removing {folder}, the checkpoints of a run whose model is published"]
