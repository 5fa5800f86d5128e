"""A full disk under the cache root: refused before a command starts, named when it runs out
mid-command, and nothing cached is lost."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sracl_core.disk_space import MIN_FREE_ENV, check_free_space, full_disk_note
from sracl_core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEXT_PROFILES = ["--set", "profiles.backend=text"]


def test_a_disk_with_less_than_the_minimum_free_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(MIN_FREE_ENV, str(10**12))  # more than any disk here holds
    with pytest.raises(ConfigError, match=rf"cache_root: the disk holding {tmp_path / 'c'} has "
                                          r"[0-9.]+ MB free, less than the [0-9.]+ MB sracl "
                                          rf"needs .* \({MIN_FREE_ENV}=0 skips this check\)"):
        check_free_space(tmp_path / "c")
    monkeypatch.setenv(MIN_FREE_ENV, "0")
    check_free_space(tmp_path / "c")
    monkeypatch.setenv(MIN_FREE_ENV, "lots")
    with pytest.raises(ConfigError, match=rf"{MIN_FREE_ENV}: expected a number of MB, got 'lots'"):
        check_free_space(tmp_path)


def test_only_an_out_of_space_error_gets_the_full_disk_note(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(MIN_FREE_ENV, "0")
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("writing the table failed") from inner
    except RuntimeError as chained:
        note = full_disk_note(chained, tmp_path)
    assert note is not None and note.startswith(f"the disk holding {tmp_path} is full")
    assert full_disk_note(ValueError("bad value"), tmp_path) is None
    assert full_disk_note(RuntimeError("(sqlite3.OperationalError) database or disk is full"),
                          tmp_path) is not None


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 160 MB tmpfs, above the 100 MB minimum (needs root and CAP_SYS_ADMIN, as on the
    CI machine)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _sracl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flows.launcher", *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def _fill(disk: Path) -> Path:
    ballast = disk / "ballast"
    subprocess.run(["fallocate", "-l", str(os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize),
                    str(ballast)], check=True)
    return ballast


@pytest.mark.slow
def test_a_disk_that_fills_mid_command_is_named_and_the_cache_survives(small_disk: Path):
    cache = small_disk / "cache"
    where = ["-c", "configs/default.yaml", "--set", f"cache_root={cache}", *TEXT_PROFILES]
    first = _sracl("run", *where, "--until", "ingest")
    assert first.returncode == 0, first.stdout + first.stderr
    ballast = _fill(small_disk)

    refused = _sracl("run", *where, "--until", "prompts")
    assert refused.returncode == 1
    assert "has 0.0 MB free, less than the 100.0 MB sracl needs" in refused.stdout

    failed = _sracl("run", *where, "--until", "prompts", env={MIN_FREE_ENV: "0"})
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"the disk holding {cache} is full (0.0 MB free): free some space and run the " \
           "command again; what was cached is intact" in failed.stdout
    # the log file's failure is one line, not a "--- Logging error ---" traceback per record
    assert "--- Logging error ---" not in failed.stderr
    assert failed.stderr.count("cannot be written") == 1
    assert "no traceback: the log file could not be written" in failed.stdout

    ballast.unlink()
    verified = _sracl("verify", *where)
    assert verified.returncode == 0 and "1 sound" in verified.stdout, verified.stdout
    again = _sracl("run", *where, "--until", "prompts")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 stages: 1 cached, 1 computed" in again.stdout
