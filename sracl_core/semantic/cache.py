"""The LLM response cache: every answer (or failure) stored per prompt in Parquet.

A response is keyed by a hash of the model, the sampling settings and the
prompt, so the same prompt under the same settings is never generated twice:
an interrupted profile stage resumes where it stopped, and a run with new
users only generates the new prompts. The cache lives outside the stage's
fingerprint folders (``<cache_root>/llm_cache/``) because it outlives them.

Each flush writes a new part file (temporary name, then rename), so a killed
run loses at most the answers not yet flushed and concurrent writers never
clash. Error texts are redacted again on the way in (an endpoint's error can
echo the API key), whichever backend built them.
Failures (backend errors, empty or invalid answers) are recorded too, with
their error, and retried on the next lookup: only ``ok`` rows count as cached.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from sracl_core.artifact_integrity import CORRUPT
from sracl_core.atomic import json_digest, replacing
from sracl_core.semantic.redact import redact

log = logging.getLogger(__name__)

OK = "ok"
FAILED = "failed"
"""The backend gave no answer at all (HTTP or engine error): not an attempt at an answer."""
FOLDER = "llm_cache"
"""The cache's folder under a cache root, beside the datasets' artifacts."""
SCHEMA = {
    "key": pl.String,
    "status": pl.String,
    "text": pl.String,
    "error": pl.String,
    "attempt": pl.Int32,
    "prompt_tokens": pl.Int32,
    "completion_tokens": pl.Int32,
    "finish_reason": pl.String,
    "model": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
}
_COMPACT_AFTER_PARTS = 64


def damaged_parts(directory: Path) -> list[tuple[Path, str]]:
    """Each part file of a response cache that cannot be read, with why (for ``verify``)."""
    damaged = []
    for part in sorted(Path(directory).glob("part-*.parquet")):
        try:
            pl.read_parquet(part)
        except FileNotFoundError:
            continue
        except pl.exceptions.PolarsError as error:
            damaged.append((part, first_line(error)))
    return damaged


def first_line(error: BaseException) -> str:
    """An error as one line: Polars' messages run on with hints over several."""
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def response_key(model: str, sampling: dict[str, Any], system: str, prompt: str) -> str:
    """Stable identity of one request: model, sampling settings and the two messages."""
    return json_digest({"model": model, "sampling": sampling, "system": system,
                        "prompt": prompt}, ascii_only=False)


@dataclass(frozen=True)
class CachedResponse:
    """One stored answer or failure; failures keep their error so a retry can say why."""

    key: str
    status: str
    text: str | None
    error: str | None = None
    attempt: int = 1
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    model: str | None = None


class ResponseCache:
    """A folder of Parquet part files, read once on open, appended per batch."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ok: dict[str, str] = {}
        self._attempts: dict[str, int] = {}
        self._load()

    def _parts(self) -> list[Path]:
        return sorted(self.directory.glob("part-*.parquet"))

    def _load(self) -> None:
        parts = self._parts()
        if not parts:
            return
        table = self._read(parts)
        ok = table.filter(pl.col("status") == OK).unique("key", keep="last")
        self._ok = dict(zip(ok["key"], ok["text"], strict=True))
        tries = (table.filter(pl.col("status") != FAILED)
                 .group_by("key").agg(pl.col("attempt").max()))
        self._attempts = dict(zip(tries["key"], tries["attempt"], strict=True))
        if len(parts) > _COMPACT_AFTER_PARTS:
            self._compact(parts, table)

    def _read(self, parts: list[Path], *, own: bool = True) -> pl.DataFrame:
        """All rows of these parts; a damaged one of this cache is set aside, another
        cache's (``own=False``, only read) is skipped with a warning."""
        frames = []
        for part in parts:
            try:
                frames.append(pl.read_parquet(part))
            except FileNotFoundError:
                continue  # compacted by a concurrent process: its rows are in the merged part
            except pl.exceptions.PolarsError as error:  # damaged content, not a bad open
                if own:
                    self._set_aside(part, error)
                else:
                    log.warning("llm cache: skipped %s, which is damaged (%s)", part,
                                first_line(error))
        if not frames:
            return pl.DataFrame(schema=SCHEMA)
        return pl.concat(frames, how="vertical_relaxed").sort("created_at")

    def _set_aside(self, part: Path, error: BaseException) -> None:
        """Move an unreadable part (a truncated copy, a bad disk) out of the way, as the
        stage cache does with a corrupt artifact: its answers are asked again, every
        other answer is kept, and the file stays for inspection."""
        aside = self.directory / CORRUPT / part.name
        aside.parent.mkdir(exist_ok=True)
        try:
            part.replace(aside)
        except FileNotFoundError:
            return  # another process opening the cache set it aside first
        log.warning("llm cache: %s is damaged (%s); moved to %s, its answers will be asked "
                    "again", part, first_line(error), aside)

    def _compact(self, parts: list[Path], table: pl.DataFrame) -> None:
        """Merge many small parts into one; the merged part is written before any is removed."""
        self._write(table)
        for part in parts:
            part.unlink(missing_ok=True)
        log.info("llm cache: compacted %d parts into one (%s)", len(parts), self.directory)

    def get(self, key: str) -> str | None:
        """The cached text of a successful response, or None."""
        return self._ok.get(key)

    def attempts(self, key: str) -> int:
        """How many answers (valid or not) were recorded for a key.

        Backend failures do not count: the attempt number picks the sampling (the
        first is greedy, later ones sample at the retry temperature), and an outage
        must not turn the next greedy try into a sampled one.
        """
        return self._attempts.get(key, 0)

    def __len__(self) -> int:
        return len(self._ok)

    def put(self, responses: list[CachedResponse]) -> None:
        """Record a batch durably (one part file) and make its successes visible."""
        if not responses:
            return
        now = datetime.now(UTC)
        table = pl.DataFrame(
            [
                {
                    "key": r.key, "status": r.status, "text": r.text,
                    "error": None if r.error is None else redact(r.error),
                    "attempt": r.attempt, "prompt_tokens": r.prompt_tokens,
                    "completion_tokens": r.completion_tokens, "finish_reason": r.finish_reason,
                    "model": r.model, "created_at": now,
                }
                for r in responses
            ],
            schema=SCHEMA,
        )
        self._write(table)
        for response in responses:
            if response.status != FAILED:
                self._attempts[response.key] = max(self._attempts.get(response.key, 0),
                                                   response.attempt)
            if response.status == OK and response.text is not None:
                self._ok[response.key] = response.text

    def merge_from(self, other: Path) -> int:
        """Add another cache folder's successful answers that this one lacks, as one part
        file with their original rows; returns how many (the other folder is only read)."""
        parts = sorted(Path(other).glob("part-*.parquet"))
        if not parts:
            return 0
        table = self._read(parts, own=False).filter(pl.col("status") == OK)
        new = table.unique("key", keep="last").filter(~pl.col("key").is_in(list(self._ok)))
        if new.is_empty():
            return 0
        self._write(new.select(list(SCHEMA)))
        self._ok.update(zip(new["key"], new["text"], strict=True))
        for key, attempt in zip(new["key"], new["attempt"], strict=True):
            self._attempts[key] = max(self._attempts.get(key, 0), attempt)
        return new.height

    def _write(self, table: pl.DataFrame) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"part-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
        with replacing(self.directory / name) as temporary:
            table.write_parquet(temporary, compression="zstd")

    def failures(self) -> pl.DataFrame:
        """Every recorded failure whose key never succeeded (for reports and debugging)."""
        parts = self._parts()
        if not parts:
            return pl.DataFrame(schema=SCHEMA)
        table = self._read(parts)
        return table.filter((pl.col("status") != OK) & ~pl.col("key").is_in(list(self._ok)))
