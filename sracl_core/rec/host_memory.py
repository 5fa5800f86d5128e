"""Keep freed heap memory in the process instead of handing it back to the kernel.

A CPU training step allocates and frees the same few hundred buffers every
batch (the [256, n_items] logits alone are 12 MB on Beauty). glibc serves
large requests with ``mmap`` and returns freed memory at the top of the heap
to the kernel, so every step faults the same pages in again: about 10,000
minor page faults and a tenth of the step's CPU time on Beauty
(``benchmarks/bench_train.py --allocator``). Raising glibc's mmap and trim
thresholds makes those buffers come from, and go back to, the heap, the way
tcmalloc or jemalloc would behave if preloaded. Peak memory is unchanged; the
process simply keeps its peak until it exits, which a training run does anyway.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc refuses mmap thresholds above HEAP_MAX_SIZE / 2 (32 MiB on 64-bit Linux).
_MMAP_THRESHOLD_BYTES = 32 * 2**20
_TRIM_THRESHOLD_BYTES = 2**31 - 1  # the largest an int argument holds: never trim

_applied = False


def retain_freed_memory() -> bool:
    """Tune glibc's allocator once per process; False where there is no glibc to tune."""
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    trimmed = mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)
    mapped = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
    _applied = bool(trimmed and mapped)
    if not _applied:
        log.debug("host memory: mallopt refused (trim %s, mmap %s)", trimmed, mapped)
    return _applied
