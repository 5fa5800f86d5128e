"""Errors a user can act on: each names the file, line or key and what was expected."""

from __future__ import annotations

from pathlib import Path


class SraclError(Exception):
    """Base class: the CLI prints these without a traceback."""

    def __reduce__(self) -> tuple:
        """Rebuilt from the message and attributes, not by calling ``__init__`` again: an
        error whose ``__init__`` takes other arguments (:class:`DataFormatError`) raised in a
        grid worker could not be unpickled in the command, which broke the worker pool and
        was reported as a dead worker."""
        return _rebuilt, (type(self), str(self), self.__dict__)


def _rebuilt(kind: type[SraclError], message: str, state: dict) -> SraclError:
    error = Exception.__new__(kind)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class ConfigError(SraclError):
    """A config file or override does not validate."""


class DataFormatError(SraclError):
    """An input file does not have the expected format.

    The message always starts with ``file:line`` (or ``file: row N``) so that a
    user can jump straight to the offending record.
    """

    def __init__(self, path: str | Path, expected: str, *, line: int | None = None,
                 row: int | None = None, got: str | None = None) -> None:
        where = str(path)
        if line is not None:
            where += f":{line}"
        elif row is not None:
            where += f": row {row}"
        message = f"{where}: expected {expected}"
        if got is not None:
            shown = got if len(got) <= 120 else got[:117] + "..."
            message += f", got {shown!r}"
        super().__init__(message)
        self.path = str(path)
        self.line = line
        self.row = row


class EmptyDatasetError(SraclError):
    """Filtering removed every interaction."""


class StageInputMissing(SraclError):
    """A stage was asked to run before the stages it reads from."""


class ArtifactCorrupt(SraclError):
    """A cached artifact's file is damaged (truncated, changed, unreadable)."""


class TrackingLost(SraclError):
    """The tracking server stopped answering during a run whose stages all finished."""


class WorkerDied(SraclError):
    """A grid worker process ended abruptly (SIGKILL, the out-of-memory killer, a crash in
    native code); the message names the run it was running, or the runs it interrupted."""


class GridRunsFailed(SraclError):
    """Runs of an ``sracl experiment --keep-going`` grid failed; the others finished."""

    def __init__(self, grid: str, failures: dict[str, BaseException], grid_path: str) -> None:
        def first_line(error: BaseException) -> str:
            text = str(error).strip()
            return text.splitlines()[0] if text else type(error).__name__

        named = "; ".join(line if line.startswith(label) else f"{label}: {line}"
                          for label, line in ((label, first_line(error))
                                              for label, error in failures.items()))
        super().__init__(
            f"experiment {grid}: {len(failures)} run(s) failed ({named}); every other run "
            f"finished and is cached. Their table so far: sracl inspect grid --grid {grid_path} "
            "--table (with this command's --config and --set); the log file has each "
            "failure's traceback, and the same command runs only what is left")
        self.failures = failures
