"""The stores `sracl run` keeps in the cache root: made once however many runs start, and a
file there that is not an MLflow store refused without being touched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.flows.sracl_process import SHORT, finish, flow_run_state, mlflow_runs, start_run


@pytest.mark.slow
def test_two_runs_started_together_on_an_empty_cache_both_finish(tmp_path: Path):
    cache = tmp_path / "cache"
    outputs = [tmp_path / "first.out", tmp_path / "second.out"]
    processes = [start_run(cache, SHORT, output) for output in outputs]
    codes = [finish(process) for process in processes]
    consoles = [output.read_text() for output in outputs]
    assert codes == [0, 0], consoles
    runs = mlflow_runs(cache)
    assert sorted(status for status, _ in runs.values()) == ["FINISHED", "FINISHED"]
    assert {flow_run_state(cache, flow_run) for _, flow_run in runs.values()} == {"COMPLETED"}


def _text_file(path: Path) -> None:
    path.write_text("notes, not a database\n")


def _other_sqlite(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.commit()
    connection.close()


def _damaged_mlflow_like(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)


@pytest.mark.parametrize(("make", "reason"), [
    (_text_file, "is not an SQLite database"),
    (_other_sqlite, "is an SQLite database of something else (tables: notes)"),
    (_damaged_mlflow_like, "is a damaged SQLite database"),
], ids=["text", "other-sqlite", "damaged"])
def test_a_foreign_mlflow_db_fails_in_one_line_before_any_work_and_is_left_alone(
        make, reason: str, tmp_path: Path):
    cache = tmp_path / "cache"
    cache.mkdir()
    database = cache / "mlflow.db"
    make(database)
    before = (database.read_bytes(), database.stat().st_mtime_ns)
    output = tmp_path / "run.out"
    code = finish(start_run(cache, SHORT, output))
    errors = [line for line in output.read_text().splitlines() if line.startswith("error:")]
    assert code == 1
    assert len(errors) == 1 and errors[0].startswith(f"error: {database}: {reason}"), errors
    assert "move it away, or set tracking.uri" in errors[0]
    assert (database.read_bytes(), database.stat().st_mtime_ns) == before
    assert sorted(path.name for path in cache.iterdir()) == ["logs", "mlflow.db"], \
        "no stage ran and no server started"
