"""Errors a user can act on: each names the file, line or key and what was expected."""

from __future__ import annotations

from pathlib import Path


class SraclError(Exception):
    """Base class: the CLI prints these without a traceback."""


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
