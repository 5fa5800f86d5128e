"""The console shows the pipeline's records; the log file gets everything, tracebacks included."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.console import configure_logging, log_file_of, new_log_path, record_failure


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_engine_records_reach_the_file_only_and_tracebacks_stay_off_the_console(
        tmp_path: Path, capfd: pytest.CaptureFixture[str], restored_logging: None) -> None:
    log_path = new_log_path(tmp_path / "cache")
    assert log_path.parent == tmp_path / "cache" / "logs" and log_path.name.startswith("sracl-")
    configure_logging(log_path)
    assert log_file_of() == log_path
    logging.getLogger("sracl_core.stages.train").info("train: epoch 1")
    logging.getLogger("vllm.engine").info("engine config dump")
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        record_failure(error)
    for handler in logging.getLogger().handlers:
        handler.flush()
    console = capfd.readouterr().err
    assert "train: epoch 1" in console
    assert "engine config dump" not in console and "Traceback" not in console
    written = log_path.read_text()
    assert "vllm.engine: engine config dump" in written
    assert "Traceback" in written and "RuntimeError: boom" in written


def test_verbose_shows_everything(capfd: pytest.CaptureFixture[str],
                                  restored_logging: None) -> None:
    configure_logging(None, verbose=True)
    logging.getLogger("mlflow.store").warning("migrating the database")
    assert "migrating the database" in capfd.readouterr().err
