"""Remember the overrides of the last ``sracl run`` of each config file.

``sracl recommend`` and ``sracl inspect`` read the artifacts of one exact config,
overrides included; repeating ``--set ...`` on every command is error-prone. The
run records its overrides under the config's own (un-overridden) cache root, so
the record is found even when an override moved the cache elsewhere.

A run is recorded when it starts and again when it finishes: right after a run was
interrupted, ``sracl status`` shows that run's stages (what is left to compute), not
those of an older, finished run with other overrides.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sracl_core.atomic import write_text
from sracl_core.config import load_config
from sracl_core.errors import SraclError


def _record_path(config_path: Path) -> Path:
    resolved = Path(config_path).resolve()
    base = load_config(resolved).cache_root
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    return Path(base) / "last_runs" / f"{resolved.stem}-{digest}.json"


@dataclass(frozen=True)
class LastRun:
    overrides: list[str]
    finished: bool


def record(config_path: Path, overrides: list[str], *, finished: bool) -> Path:
    """Write the record atomically (a reader never sees half a file)."""
    path = _record_path(config_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    payload = {"config": str(Path(config_path).resolve()), "overrides": list(overrides),
               "finished_at": now if finished else None}
    return write_text(path, json.dumps(payload, indent=2))


def last_run(config_path: Path) -> LastRun | None:
    """The last run of this config file, finished or not, or None if there was none."""
    try:
        path = _record_path(config_path)
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, SraclError):
        return None
    overrides = payload.get("overrides") if isinstance(payload, dict) else None
    if not isinstance(overrides, list):
        return None
    return LastRun([str(value) for value in overrides], payload.get("finished_at") is not None)
