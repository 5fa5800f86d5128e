"""Atomic files and stable digests."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from sracl_core.atomic import (
    complete_folder,
    file_digest,
    json_digest,
    replacing,
    replacing_folder,
    write_text,
)


def test_a_file_is_replaced_whole_and_a_failed_write_leaves_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "record.json"
    write_text(path, "old")
    with pytest.raises(RuntimeError), replacing(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "old"
    assert [p.name for p in path.parent.iterdir()] == ["record.json"]  # no temporary left
    write_text(path, "new")
    assert path.read_text() == "new"


def test_two_writers_never_share_a_temporary(tmp_path: Path) -> None:
    path = tmp_path / "table.parquet"
    with replacing(path) as first, replacing(path) as second:
        assert first != second and first.parent == second.parent == tmp_path
        assert first.name.startswith(".tmp-table.parquet.")
        first.write_text("1")
        second.write_text("2")
    assert path.read_text() == "1"  # the outer block finished last


def test_digests_equal_the_hand_computed_ones(tmp_path: Path) -> None:
    value = {"b": [1, 2], "a": "é", "p": tmp_path}
    blob = '{"a":"\\u00e9","b":[1,2],"p":"' + str(tmp_path) + '"}'
    assert json_digest(value) == hashlib.sha256(blob.encode()).hexdigest()
    assert json_digest({"a": "é"}, ascii_only=False) == hashlib.sha256(
        '{"a":"é"}'.encode()).hexdigest()
    assert json_digest({"x": 1, "y": 2}) == json_digest({"y": 2, "x": 1})
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 3_000_000)
    assert file_digest(data) == hashlib.sha256(b"x" * 3_000_000).hexdigest()
    assert file_digest(data, "blake2b", digest_size=16) == hashlib.blake2b(
        b"x" * 3_000_000, digest_size=16).hexdigest()


def test_a_folder_is_swapped_whole_and_a_kill_mid_swap_leaves_one_version(
        tmp_path: Path) -> None:
    target = tmp_path / "last"
    with replacing_folder(target) as folder:
        (folder / "state").write_text("1")
    with pytest.raises(RuntimeError), replacing_folder(target) as folder:
        (folder / "state").write_text("half")
        raise RuntimeError("killed")
    assert (complete_folder(target) / "state").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last"]  # no temporary left
    with replacing_folder(target) as folder:
        (folder / "state").write_text("2")
    assert (target / "state").read_text() == "2"
    target.rename(target.with_name("last.old"))  # a kill between the swap's two renames
    assert (complete_folder(target) / "state").read_text() == "2"
    assert complete_folder(tmp_path / "never") is None


def test_written_files_and_folders_get_the_usual_permissions_not_private_ones(
        tmp_path: Path) -> None:
    """mkstemp's 0600 and mkdtemp's 0700 made experiment tables and models unreadable to
    the other users of a shared cache."""
    mask = os.umask(0o022)
    os.umask(mask)
    write_text(tmp_path / "table.md", "| a |")
    with replacing_folder(tmp_path / "model") as folder:
        (folder / "weights").write_bytes(b"w")
    assert stat.S_IMODE((tmp_path / "table.md").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == 0o777 & ~mask
