"""Remember the overrides of the last ``sracl run`` of each config file.

``sracl recommend`` and ``sracl inspect`` read the artifacts of one exact config,
overrides included; repeating ``--set ...`` on every command is error-prone. The
run records its overrides under the config's own (un-overridden) cache root, so
the record is found even when an override moved the cache elsewhere.
"""

from __future__ import annotations

import hashlib
import json
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


def record(config_path: Path, overrides: list[str]) -> Path:
    """Write the record atomically (a reader never sees half a file)."""
    path = _record_path(config_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"config": str(Path(config_path).resolve()), "overrides": list(overrides),
               "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}
    return write_text(path, json.dumps(payload, indent=2))


def last_overrides(config_path: Path) -> list[str] | None:
    """The overrides of the last finished run of this config file, or None if there was none."""
    try:
        path = _record_path(config_path)
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, SraclError):
        return None
    overrides = payload.get("overrides")
    return [str(value) for value in overrides] if isinstance(overrides, list) else None
