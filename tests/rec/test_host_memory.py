"""The allocator tuning, observed in a fresh process through its page-fault counter."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sracl_core.rec import host_memory

FAULTS_PER_ROUND = """
import resource, sys, torch
from sracl_core.rec.host_memory import retain_freed_memory
if sys.argv[1] == "tuned":
    assert retain_freed_memory()
def round_trip():
    # what a step does: several big buffers alive at once (activations kept for the
    # backward pass), then all freed together
    buffers = [torch.ones(256, 12101) for _ in range(8)]
    del buffers
round_trip()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    round_trip()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def faults_per_round(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", FAULTS_PER_ROUND, mode], check=True,
                         capture_output=True, text=True)
    return float(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_buffers_are_reused_without_faulting_their_pages_in_again():
    default, tuned = faults_per_round("default"), faults_per_round("tuned")
    pages_per_buffer = 256 * 12101 * 4 // 4096
    assert default >= 8 * pages_per_buffer * 0.9  # every buffer faulted in anew
    assert tuned < pages_per_buffer  # not even one buffer's worth per round


def test_tuning_is_applied_once_and_reports_success():
    if not sys.platform.startswith("linux"):
        assert host_memory.retain_freed_memory() is False
        return
    assert host_memory.retain_freed_memory() is True
    assert host_memory.retain_freed_memory() is True
