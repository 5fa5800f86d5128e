"""Which C memory allocator the process runs on, and starting ``sracl`` on a caching one.

A training step allocates and frees tensors of tens of MB hundreds of times. glibc's
malloc hands blocks that size back to the kernel when they are freed and maps fresh,
zero-filled pages for the next one; tcmalloc and jemalloc keep them for reuse. On
Beauty's SRA-CL step that made the same step (bit for bit) 6-9% faster in a paired
benchmark, its peak RSS 14% lower, and the headline grid's two workers 1.3x faster
(``benchmarks/RESULTS.md``, "Memory allocator"). vLLM's CPU guide asks for tcmalloc too.

An allocator can only be chosen before the process starts (``LD_PRELOAD``), so the
``sracl`` command re-executes itself once with one preloaded (:func:`exec_with_allocator`).
Everything it starts (grid workers, torchrun ranks, vLLM, Ray, Prefect's server)
inherits it. ``SRACL_MALLOC`` chooses:

* ``auto`` (the default): the system's tcmalloc when installed (Debian/Ubuntu:
  ``apt-get install libtcmalloc-minimal4``), else the jemalloc that ships inside the
  ``ray`` wheel (set up with the project), told never to give pages back: with its
  default decay it unmapped them as glibc does and was slower than glibc;
* ``system``: glibc's malloc;
* the path of an allocator library to preload.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

CHOICE_VARIABLE = "SRACL_MALLOC"
TCMALLOC_NAMES = ("libtcmalloc_minimal.so.4", "libtcmalloc.so.4")
SYSTEM_LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
                       "/usr/lib", "/usr/local/lib")
TCMALLOC_SETTINGS = {"TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD": str(1 << 40)}
"""tcmalloc prints a stack trace to stderr for every allocation over 1 GiB (vLLM's KV cache)."""
JEMALLOC_SETTINGS = {"MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1"}
"""Keep freed pages for reuse instead of purging them over the next seconds."""


class AllocatorError(ValueError):
    """``SRACL_MALLOC`` names something that is not an allocator library."""


@dataclass(frozen=True)
class Allocator:
    """A library to preload and the settings it runs with (the user's own settings win)."""

    name: str
    path: Path
    settings: Mapping[str, str] = field(default_factory=dict)


def library_dirs() -> tuple[str, ...]:
    """Where tcmalloc may be: this environment's lib (conda ships one), then the system's."""
    return (str(Path(sys.prefix) / "lib"), *SYSTEM_LIBRARY_DIRS)


def find_tcmalloc(folders: Sequence[str]) -> Path | None:
    """The first tcmalloc library in ``folders``."""
    for folder in folders:
        for name in TCMALLOC_NAMES:
            candidate = Path(folder) / name
            if candidate.is_file():
                return candidate
    return None


def ray_jemalloc() -> Path | None:
    """The jemalloc inside the installed ``ray`` package (found without importing ray)."""
    spec = importlib.util.find_spec("ray")
    if spec is None or spec.origin is None:
        return None
    candidate = Path(spec.origin).parent / "core" / "libjemalloc.so"
    return candidate if candidate.is_file() else None


def auto_allocator(folders: Sequence[str] | None = None,
                   jemalloc: Path | None = None) -> Allocator | None:
    """tcmalloc from ``folders`` (default :func:`library_dirs`), else Ray's jemalloc."""
    tcmalloc = find_tcmalloc(library_dirs() if folders is None else folders)
    if tcmalloc is not None:
        return Allocator("tcmalloc", tcmalloc, TCMALLOC_SETTINGS)
    jemalloc = ray_jemalloc() if jemalloc is None else jemalloc
    return None if jemalloc is None else Allocator("jemalloc", jemalloc, JEMALLOC_SETTINGS)


def chosen_allocator(environ: Mapping[str, str], folders: Sequence[str] | None = None,
                     jemalloc: Path | None = None) -> Allocator | None:
    """The allocator ``SRACL_MALLOC`` asks to preload, or None for glibc's malloc."""
    choice = environ.get(CHOICE_VARIABLE, "auto").strip() or "auto"
    if choice == "system":
        return None
    if choice == "auto":
        return auto_allocator(folders, jemalloc)
    path = Path(choice).expanduser()
    if not path.is_file() or ".so" not in path.name:
        raise AllocatorError(f"{CHOICE_VARIABLE}={choice!r}: expected 'auto', 'system' or the "
                             "path of a shared allocator library (e.g. "
                             "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4)")
    settings = JEMALLOC_SETTINGS if "jemalloc" in path.name else TCMALLOC_SETTINGS
    return Allocator(family_of(path.name), path.resolve(), settings)


def preload_environment(environ: Mapping[str, str], folders: Sequence[str] | None = None,
                        jemalloc: Path | None = None) -> dict[str, str] | None:
    """The environment to re-execute with, or None when there is nothing to preload or an
    allocator is already in ``LD_PRELOAD`` (which also stops the re-execution from looping)."""
    allocator = chosen_allocator(environ, folders, jemalloc)
    preloaded = environ.get("LD_PRELOAD", "")
    if allocator is None or allocator.path.name in preloaded or "malloc" in preloaded:
        return None
    env = {**allocator.settings, **environ}
    env["LD_PRELOAD"] = f"{allocator.path}:{preloaded}" if preloaded else str(allocator.path)
    return env


def exec_with_allocator(argv: Sequence[str] | None = None) -> None:
    """Re-execute this interpreter with the chosen allocator preloaded; return when none is.

    Must run before anything else happens in the process: ``exec`` replaces it (same
    pid, same open files), and the new one starts with the allocator in place.
    """
    env = preload_environment(os.environ)
    if env is None:
        return
    args = list(sys.orig_argv if argv is None else argv)
    os.execve(sys.executable, [sys.executable, *args[1:]], env)


FAMILIES = ("tcmalloc", "jemalloc", "mimalloc")


def family_of(library_name: str) -> str:
    """``tcmalloc``, ``jemalloc`` or ``mimalloc`` for such a library file, else its name."""
    return next((family for family in FAMILIES if f"lib{family}" in library_name), library_name)


def active_allocator(maps: Path = Path("/proc/self/maps")) -> str:
    """The allocator library mapped into this process (``tcmalloc``, ``jemalloc``), else glibc."""
    try:
        mapped = maps.read_text()
    except OSError:
        return "unknown"
    return next((family for family in FAMILIES if f"lib{family}" in mapped), "glibc")
