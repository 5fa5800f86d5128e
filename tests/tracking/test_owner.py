"""Who owns a run: a live process, a dead one, a reused PID, or one this host cannot see."""

from __future__ import annotations

import subprocess
import sys

from sracl_core.tracking.owner import TAG_HOST, TAG_PID, TAG_STARTED, owner_alive, owner_tags


def test_this_process_is_alive_and_a_finished_one_is_not() -> None:
    assert owner_alive(owner_tags())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    import psutil

    tags = {**owner_tags(), TAG_PID: str(child.pid),
            TAG_STARTED: repr(psutil.Process(child.pid).create_time())}
    child.wait()
    assert not owner_alive(tags)


def test_a_reused_pid_is_not_the_owner_and_unknowable_owners_count_as_alive() -> None:
    mine = owner_tags()
    assert not owner_alive({**mine, TAG_STARTED: "1.0"})  # same PID, another start time
    assert owner_alive({**mine, TAG_HOST: "another-host"})  # cannot be seen from here
    assert owner_alive({})  # a run from before owners were recorded
