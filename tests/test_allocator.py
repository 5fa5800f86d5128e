"""Choosing the C allocator: the rules, and real re-executed processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import sracl_core.allocator as allocator_module
from sracl_core.allocator import (
    AllocatorError,
    active_allocator,
    auto_allocator,
    chosen_allocator,
    preload_environment,
    ray_jemalloc,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
AUTO = auto_allocator()
needs_an_allocator = pytest.mark.skipif(
    AUTO is None, reason="neither tcmalloc (apt-get install libtcmalloc-minimal4) nor ray's "
    "jemalloc is installed here")


def _fake_library(folder: Path, name: str = "libtcmalloc_minimal.so.4") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"\x7fELF")
    return folder / name


def test_auto_takes_the_first_folder_that_has_tcmalloc(tmp_path: Path):
    first = _fake_library(tmp_path / "a", "libtcmalloc.so.4")
    _fake_library(tmp_path / "b")
    folders = [str(tmp_path / "none"), str(tmp_path / "a"), str(tmp_path / "b")]
    jemalloc = _fake_library(tmp_path / "ray", "libjemalloc.so")
    for environ in ({}, {"SRACL_MALLOC": "auto"}):
        chosen = chosen_allocator(environ, folders, jemalloc)
        assert chosen is not None and (chosen.name, chosen.path) == ("tcmalloc", first)


def test_without_tcmalloc_auto_takes_rays_jemalloc_that_keeps_its_pages(tmp_path: Path,
                                                                       monkeypatch):
    jemalloc = _fake_library(tmp_path / "ray", "libjemalloc.so")
    chosen = chosen_allocator({}, [str(tmp_path / "none")], jemalloc)
    assert chosen is not None and (chosen.name, chosen.path) == ("jemalloc", jemalloc)
    env = preload_environment({}, [str(tmp_path / "none")], jemalloc)
    assert env == {"LD_PRELOAD": str(jemalloc),
                   "MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1"}
    monkeypatch.setattr(allocator_module, "ray_jemalloc", lambda: None)
    assert chosen_allocator({}, [str(tmp_path / "none")]) is None


def test_rays_jemalloc_is_found_in_the_installed_package():
    pytest.importorskip("ray")
    import ray

    assert ray_jemalloc() == Path(ray.__file__).parent / "core" / "libjemalloc.so"


def test_system_preloads_nothing_even_when_tcmalloc_is_there(tmp_path: Path):
    _fake_library(tmp_path)
    assert chosen_allocator({"SRACL_MALLOC": "system"}, [str(tmp_path)]) is None
    assert preload_environment({"SRACL_MALLOC": "system"}, [str(tmp_path)]) is None


def test_an_explicit_library_path_is_used_with_its_settings(tmp_path: Path):
    library = _fake_library(tmp_path, "libjemalloc.so.2")
    assert chosen_allocator({"SRACL_MALLOC": str(library)}, []).name == "jemalloc"
    env = preload_environment({"SRACL_MALLOC": str(library), "MALLOC_CONF": "narenas:2"}, [])
    assert env is not None and env["LD_PRELOAD"] == str(library.resolve())
    assert env["MALLOC_CONF"] == "narenas:2"  # the user's own setting wins


@pytest.mark.parametrize("value", ["tcmalloc", "/no/such/libtcmalloc.so.4", "/etc/hostname"])
def test_a_choice_that_is_not_a_library_fails_naming_the_variable(value: str):
    with pytest.raises(AllocatorError, match=r"SRACL_MALLOC=.*expected 'auto', 'system' or "
                                             r"the path of a shared allocator library"):
        chosen_allocator({"SRACL_MALLOC": value}, [])


def test_the_users_own_preloads_and_threshold_are_kept(tmp_path: Path):
    library = _fake_library(tmp_path)
    env = preload_environment({"LD_PRELOAD": "/opt/libiomp5.so", "PATH": "/bin",
                               "TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD": "123"}, [str(tmp_path)])
    assert env == {"LD_PRELOAD": f"{library}:/opt/libiomp5.so", "PATH": "/bin",
                   "TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD": "123"}
    quiet = preload_environment({}, [str(tmp_path)])
    assert quiet is not None and int(quiet["TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD"]) >= 1 << 40


@pytest.mark.parametrize("preloaded", ["/usr/lib/libtcmalloc_minimal.so.4",
                                       "/x/libjemalloc.so.2:/opt/libiomp5.so"])
def test_an_allocator_already_preloaded_is_not_preloaded_again(tmp_path: Path, preloaded: str):
    # the re-executed process sees its own LD_PRELOAD here, which is what ends the re-execution
    _fake_library(tmp_path)
    assert preload_environment({"LD_PRELOAD": preloaded}, [str(tmp_path)]) is None


def test_the_active_allocator_is_read_from_the_memory_map(tmp_path: Path):
    maps = tmp_path / "maps"
    maps.write_text("7f00 r-xp 0 08:01 1 /usr/lib/x86_64-linux-gnu/libc.so.6\n")
    assert active_allocator(maps) == "glibc"
    maps.write_text(maps.read_text() + "7f01 r-xp 0 08:01 2 /usr/lib/libtcmalloc_minimal.so.4\n")
    assert active_allocator(maps) == "tcmalloc"
    assert active_allocator(tmp_path / "missing") == "unknown"


REPORT = ("import os; from sracl_core.allocator import exec_with_allocator, active_allocator; "
          "exec_with_allocator(); print(os.getpid(), active_allocator())")


def _python(code: str, **environment: str) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"LD_PRELOAD", "SRACL_MALLOC"}}
    return subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT_ROOT, text=True,
                            env={**env, **environment}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


@needs_an_allocator
def test_a_process_re_executes_itself_on_the_allocator_keeping_its_pid():
    process = _python(REPORT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert out.split() == [str(process.pid), AUTO.name]
    system = _python(REPORT, SRACL_MALLOC="system")
    out, err = system.communicate(timeout=120)
    assert out.split() == [str(system.pid), "glibc"], err


def test_the_command_fails_in_one_line_on_a_bad_choice():
    result = subprocess.run([sys.executable, "-m", "flows.launcher", "--help"], cwd=PROJECT_ROOT,
                            env={**os.environ, "SRACL_MALLOC": "fast"}, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: SRACL_MALLOC='fast': expected 'auto', 'system' or the path of a shared "
        "allocator library (e.g. /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4)"]


TRAIN_STEPS = """
import hashlib, torch
from sracl_core.allocator import exec_with_allocator, active_allocator
exec_with_allocator()
from sracl_core.rec.backbones.sasrec import SASRec, SASRecConfig
from sracl_core.rec.objectives import rec_loss
torch.manual_seed(0)
torch.set_num_threads(1)
model = SASRec(SASRecConfig(), n_items=20000, max_len=20)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for step in range(4):  # logits of 1,024 x 20,000 floats: blocks glibc maps and unmaps each time
    lengths = torch.randint(1, 21, (1024, 1))
    sequences = torch.randint(1, 20001, (1024, 20)) * (torch.arange(20) >= 20 - lengths)
    loss = rec_loss(model.encode(sequences), torch.randint(1, 20001, (1024,)), model.item_table())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in model.parameters()))
print(active_allocator(), digest.hexdigest())
"""


JEMALLOC = ray_jemalloc()


@needs_an_allocator
def test_training_steps_give_the_same_bits_on_every_allocator():
    choices = {"auto": AUTO.name, "system": "glibc"}
    if JEMALLOC is not None:
        choices[str(JEMALLOC)] = "jemalloc"
    digests = set()
    for choice, expected in choices.items():
        process = _python(TRAIN_STEPS, SRACL_MALLOC=choice)
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        name, digest = out.split()
        assert name == expected
        digests.add(digest)
    assert len(digests) == 1
