"""Temporary artifact folders across processes: a killed writer's is removed, a live one's
kept, whatever host or PID namespace it runs in, and folders sracl did not create are left."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from sracl_core.artifacts import MANIFEST, ArtifactStore
from tests.processes import dead_pid, finish, start, wait_for_file


def test_killed_writer_leaves_no_complete_artifact_and_is_cleaned_up(tmp_path: Path):
    script = textwrap.dedent(f"""
        import os, signal
        import polars as pl
        from sracl_core.artifacts import MANIFEST, ArtifactStore
        store = ArtifactStore({str(tmp_path)!r}, "ds")
        with store.write("s", "fp", config={{}}, inputs={{}}) as writer:
            writer.write_table("t", pl.DataFrame({{"a": [1]}}))
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", script], check=False)
    assert result.returncode == -9
    store = ArtifactStore(tmp_path, "ds")
    leftovers = list((tmp_path / "ds" / "s").iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".tmp-")
    assert not store.is_complete("s", "fp")
    with store.write("s", "other", config={}, inputs={}) as writer:
        writer.write_table("t", pl.DataFrame({"a": [1]}))
    assert sorted(p.name for p in (tmp_path / "ds" / "s").iterdir()) == ["other"]
    assert os.path.exists(store.path("s", "other") / MANIFEST)


PAUSED_WRITE = """
from sracl_core.artifacts import MANIFEST, ArtifactStore

with ArtifactStore(root, "ds").write("s", "fpA", config={}, inputs={}) as writer:
    writer.write_table("t1", pl.DataFrame({"a": [1]}))
    Path(ready).write_text(str(writer.directory))
    while not Path(go).exists():
        time.sleep(0.02)
    writer.write_table("t2", pl.DataFrame({"a": [2]}))
"""
"""Write half an artifact, say where, and finish it once ``go`` exists."""

FOREIGN_WRITER = """
import os, sys, time
from pathlib import Path
import polars as pl

root, ready, go, pid = sys.argv[1:5]
os.getpid = lambda: int(pid)  # what a writer in its own PID namespace sees as its PID
try:
    from sracl_core import owned_folders
    owned_folders.host_identity = lambda: {"host": "container-7f3a", "boot": "other",
                                           "pid_namespace": "pid:[4026532999]"}
except ImportError:  # the code before owner records: the PID in the name is all there is
    pass
""" + PAUSED_WRITE


def survives_a_clean_up(writer: subprocess.Popen[bytes], tmp_path: Path) -> ArtifactStore:
    """Another write (which cleans up abandoned folders) runs while ``writer`` is paused
    mid-artifact; the writer's folder must still be there, and its artifact complete."""
    ready, go, log = tmp_path / "ready", tmp_path / "go", tmp_path / "writer.log"
    wait_for_file(ready, writer, log)
    temporary = Path(ready.read_text())
    store = ArtifactStore(tmp_path / "cache", "ds")
    with store.write("s", "other", config={}, inputs={}) as other:  # runs the clean-up
        other.write_table("t", pl.DataFrame({"a": [3]}))
    assert temporary.is_dir(), "a live writer's temporary folder was deleted"
    go.touch()
    output = finish(writer, log)
    assert writer.returncode == 0, output
    assert store.read_table("s", "fpA", "t2")["a"].to_list() == [2]
    return store


def test_a_live_writer_from_another_host_keeps_its_temporary_folder(tmp_path: Path):
    writer = start(FOREIGN_WRITER, tmp_path / "cache", tmp_path / "ready", tmp_path / "go",
                   dead_pid(), log=tmp_path / "writer.log")
    store = survives_a_clean_up(writer, tmp_path)
    assert store.check("s", "fpA").state == "cached"


NAMESPACED_WRITER = """
import sys, time
from pathlib import Path
import polars as pl

root, ready, go = sys.argv[1:4]
""" + PAUSED_WRITE


def _unshare_works() -> bool:
    unshare = shutil.which("unshare")
    return unshare is not None and subprocess.run(
        [unshare, "--pid", "--fork", "--mount-proc", "true"], capture_output=True,
        check=False).returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs unshare --pid (root or user namespaces)")
def test_a_live_writer_in_its_own_pid_namespace_keeps_its_temporary_folder(tmp_path: Path):
    """A real container-like PID namespace, as on the Docker pool sharing the cache volume:
    the writer's PID means nothing here, and its folder must survive a host-side clean-up."""
    with (tmp_path / "writer.log").open("wb") as output:
        writer = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c",
             NAMESPACED_WRITER, str(tmp_path / "cache"), str(tmp_path / "ready"),
             str(tmp_path / "go")],
            stdout=output, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[1])
    survives_a_clean_up(writer, tmp_path)


def test_clean_up_leaves_folders_sracl_did_not_create(tmp_path: Path):
    store = ArtifactStore(tmp_path, "ds")
    stage_dir = tmp_path / "ds" / "s"
    strangers = [stage_dir / f".tmp-fp-{dead_pid()}-0badcafe", stage_dir / ".tmp-notes-1-x"]
    for folder in strangers:
        folder.mkdir(parents=True)
        (folder / "keep.txt").write_text("someone's work")
    with store.write("s", "fp", config={}, inputs={}) as writer:
        writer.write_table("t", pl.DataFrame({"a": [1]}))
    for folder in strangers:
        assert (folder / "keep.txt").read_text() == "someone's work"
    assert store.is_complete("s", "fp")
