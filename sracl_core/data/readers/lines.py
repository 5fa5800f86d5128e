"""Line-oriented input shared by the readers: gzip or plain, numbered, with progress.

Every reader streams its files through :func:`numbered_lines` so that a decoding
problem, a truncated gzip member or a malformed record is reported with the
file and the line it happened on, and so that a multi-gigabyte review dump shows
a progress bar instead of a silent wait.
"""

from __future__ import annotations

import ast
import gzip
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from sracl_core.data.readers.files import no_rows, require_file
from sracl_core.errors import DataFormatError

_GZIP_MAGIC = b"\x1f\x8b"
_INTEGER = re.compile(r"-?[0-9]+")


def open_text(path: Path, encoding: str = "utf-8") -> IO[str]:
    """Open a text file, transparently un-gzipping it when it starts with the gzip magic.

    Sniffing the bytes rather than trusting the suffix lets a user keep either
    the published ``.gz`` files or unpacked copies under the same name.
    """
    if _is_gzip(path):
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


def numbered_lines(path: Path, what: str, encoding: str = "utf-8", *,
                   empty_is_error: bool = True) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` for the non-blank lines, line endings stripped.

    Lines are decoded one at a time so that an undecodable byte is reported on
    its own line, not on whichever line a buffered decoder happened to be at.
    A file without a single non-blank line is an error here, before an empty
    table can be mistaken downstream for ids that do not match.
    """
    require_file(path, what)
    line_number = 0
    records = 0
    try:
        with gzip.open(path, "rb") if _is_gzip(path) else open(path, "rb") as handle:
            lines = tqdm(handle, desc=path.name, unit=" lines", unit_scale=True,
                         disable=None, leave=False)
            for line_number, raw in enumerate(lines, start=1):
                try:
                    line = raw.decode(encoding).rstrip("\r\n")
                except UnicodeDecodeError as error:
                    shown = "utf-8" if encoding == "utf-8-sig" else encoding  # the mark is optional
                    raise DataFormatError(path, f"{shown} text", line=line_number,
                                          got=repr(raw[error.start:error.end])) from None
                if line.strip():
                    records += 1
                    yield line_number, line
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise DataFormatError(path, "a complete gzip file",
                              got=f"{error} after line {line_number}") from None
    if records == 0 and empty_is_error:
        raise no_rows(path, "lines", what)


def require_decodable(path: Path, what: str, encoding: str = "utf-8") -> None:
    """Raise for the first line that does not decode, naming it (a table parser that meets
    a bad byte reports a buffer offset at best)."""
    for _ in numbered_lines(path, what, encoding, empty_is_error=False):
        pass


def parse_json_object(path: Path, line_number: int, line: str) -> dict[str, Any]:
    """One JSON object (a JSON-lines record)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise DataFormatError(path, f"one JSON object a line ({error.msg})", line=line_number,
                              got=line) from None
    if not isinstance(record, dict):
        raise DataFormatError(path, "one JSON object a line", line=line_number, got=line)
    return record


def parse_python_literal(path: Path, line_number: int, line: str) -> dict[str, Any]:
    """One Python dict literal, parsed with ``ast.literal_eval`` (never ``eval``).

    The Amazon 2014 metadata was written with Python's ``repr``: single quotes,
    ``True``/``None``, which JSON cannot read. ``literal_eval`` accepts only
    literals, so a hostile file cannot run code.
    """
    try:
        record = ast.literal_eval(line)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise DataFormatError(path, "one Python dict literal a line", line=line_number,
                              got=line) from None
    if not isinstance(record, dict):
        raise DataFormatError(path, "one Python dict literal a line", line=line_number,
                              got=line)
    return record


def required_id(record: dict[str, Any], key: str, path: Path, line_number: int) -> str:
    """A non-empty string (or integer) id; integers are kept as their decimal text."""
    value = record.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise DataFormatError(path, f"a non-empty string field {key!r}", line=line_number,
                              got=_shown(record, key))
    return value


def required_int(record: dict[str, Any], key: str, path: Path, line_number: int) -> int:
    """An integer field (a timestamp) that fits in 64 bits; a string of digits is accepted,
    floats are not."""
    value = record.get(key)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and fits_int64(value):
        return value
    raise DataFormatError(path, f"an integer field {key!r} that fits in 64 bits",
                          line=line_number, got=_shown(record, key))


def fits_int64(value: int) -> bool:
    """Whether an integer fits the 64-bit timestamp column every reader writes."""
    return -(2**63) <= value < 2**63


def optional_str(record: dict[str, Any], key: str, path: Path, line_number: int) -> str | None:
    """A text field that may be absent; empty strings count as absent."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataFormatError(path, f"field {key!r} to be a string", line=line_number,
                              got=repr(value))
    return value.strip() or None


def optional_str_list(record: dict[str, Any], key: str, path: Path,
                      line_number: int) -> list[str]:
    """A list of strings that may be absent (empty strings dropped)."""
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataFormatError(path, f"field {key!r} to be a list of strings",
                              line=line_number, got=repr(value))
    return [v.strip() for v in value if v.strip()]


def parse_price(value: Any) -> float | None:
    """A price as published: a number, ``"$1,299.00"``, or a placeholder meaning unknown.

    Real metadata dumps use strings such as ``"None"`` or ``"—"`` for unknown
    prices; they become null rather than failing a whole category.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().lstrip("$").replace(",", ""))
        except ValueError:
            return None
    return None


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as probe:
        return probe.read(2) == _GZIP_MAGIC


def _shown(record: dict[str, Any], key: str) -> str:
    if key not in record:
        return f"no {key!r} in fields {sorted(record)}"
    return repr(record[key])
