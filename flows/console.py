"""Where messages go: the console shows the pipeline's own progress, a log file gets everything.

The engines the pipeline drives (vLLM, Prefect, MLflow, transformers) log a lot
that only matters when something goes wrong: per-tensor loader warnings, engine
config dumps, database migrations, state transitions. Every record goes to a
log file under ``<cache_root>/logs/``; the console shows only the records of
the pipeline's own loggers (and warnings and errors from anywhere with
``--verbose``, which shows everything). Progress bars are drawn by the code
that owns them and are not log records.

Must run before the engines are imported: vLLM and MLflow install their own
console handlers at import unless told not to, and Prefect keeps root handlers
that exist when it configures logging.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

PIPELINE_LOGGERS = ("sracl_core", "flows", "sracl")
"""Logger names (first component) whose INFO records reach the console."""

ENGINE_ENVIRONMENT = {
    "VLLM_CONFIGURE_LOGGING": "0",
    "MLFLOW_CONFIGURE_LOGGING": "false",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    # a tracking server that stopped answering held each call for MLflow's default retry
    # budget (7 retries, backoff factor 2: about four minutes); a run loses it after ~15 s
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "4",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}
"""Make the engines log through the standard root logger instead of their own handlers, keep
MLflow's run links off standard output, and bound its retries (each a default: the
environment wins)."""


TRACEBACK_LOGGER = "sracl-traceback"
"""Not a pipeline logger: a failure's traceback reaches the console only with --verbose."""


class PipelineRecords(logging.Filter):
    """Keep the pipeline's own records; drop the engines' (they stay in the log file)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.split(".", 1)[0] in PIPELINE_LOGGERS


class LogFile(logging.FileHandler):
    """The log file, which on a failed write (a full disk) says so once on the console and
    then drops its records, instead of a "--- Logging error ---" traceback per record."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        if not self.failed:
            self.failed = True
            error = sys.exc_info()[1]
            print(f"sracl: the log file {self.baseFilename} cannot be written ({error}); its "
                  "messages are dropped from here on", file=sys.stderr)


def new_log_path(cache_root: Path) -> Path:
    """``<cache_root>/logs/sracl-<time>-<pid>.log``: one file per command, never shared."""
    folder = Path(cache_root) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"sracl-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


def configure_logging(log_path: Path | None = None, *, verbose: bool = False) -> None:
    """Root handlers: the full log file (when given) and a console filtered unless verbose.

    Console records are single lines on standard error (a record is never wrapped into
    several); the command prints its own results on standard output."""
    for key, value in ENGINE_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    shown = logging.StreamHandler(sys.stderr)
    shown.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    if not verbose:
        shown.addFilter(PipelineRecords())
    handlers: list[logging.Handler] = [shown]
    if log_path is not None:
        to_file = LogFile(log_path, encoding="utf-8")
        to_file.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        handlers.append(to_file)
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True)
    logging.captureWarnings(True)
    logging.getLogger("sracl_core").setLevel(logging.DEBUG if verbose else logging.INFO)
    for chatty in ("httpx", "httpcore", "urllib3", "filelock", "asyncio", "aiosqlite"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def log_file_of() -> Path | None:
    """The log file the root logger writes to, if any."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


def log_file_failed() -> bool:
    """Whether the log file stopped taking records (a full disk), so it holds no traceback."""
    return any(isinstance(handler, LogFile) and handler.failed
               for handler in logging.getLogger().handlers)


def record_failure(error: BaseException) -> None:
    """Write the traceback to the log file only; the console gets one line from the caller."""
    logging.getLogger(TRACEBACK_LOGGER).error(
        "the command failed", exc_info=(type(error), error, error.__traceback__))
    if log_file_of() is None:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
