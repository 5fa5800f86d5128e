"""Prefect settings the pipeline needs, applied before Prefect is first imported.

Prefect reads its settings from the environment once, when ``prefect`` is
imported, so the command line calls :func:`configure_prefect` first. Values the
user already exported win: ``PREFECT_API_URL`` sends runs to a server, and an
exported ``PREFECT_HOME`` keeps Prefect's state wherever the user wants it.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

EPHEMERAL_STARTUP_TIMEOUT_SECONDS = 180
"""Prefect's default (20 s) is too short for its temporary server on a busy 2-core machine."""


def prefect_defaults(prefect_home: Path | None = None) -> dict[str, str]:
    """The environment defaults: local state in ``prefect_home``, no telemetry, patient start-up,
    the temporary server's own chatter off the console (errors only), and the library's own
    log records forwarded to the Prefect UI."""
    defaults = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(EPHEMERAL_STARTUP_TIMEOUT_SECONDS),
        "PREFECT_LOGGING_EXTRA_LOGGERS": "sracl_core",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "ERROR",
    }
    if prefect_home is not None:
        home = Path(prefect_home).resolve()
        defaults["PREFECT_HOME"] = str(home)
        defaults["PREFECT_MEMO_STORE_PATH"] = str(home / "memo_store.toml")
    return defaults


def configure_prefect(prefect_home: Path | None = None) -> None:
    """Set the defaults that are not set yet; must run before ``import prefect`` to count.

    The HTTP client's per-request INFO lines (Prefect talks to its API constantly)
    are silenced, so the console shows the pipeline's progress.

    The temporary (ephemeral) server's UI is off: nobody can open it before it
    stops, and building it slows the start.
    """
    for key, value in prefect_defaults(prefect_home).items():
        os.environ.setdefault(key, value)
    if "PREFECT_HOME" in os.environ:
        # Prefect makes its home without parents; on a fresh clone the cache root is not there.
        Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if "prefect" in sys.modules and prefect_home is not None:
        from prefect.settings import get_current_settings

        current = get_current_settings().home
        if Path(current).resolve() != Path(os.environ["PREFECT_HOME"]).resolve():
            raise RuntimeError(
                f"Prefect was imported before its settings were applied (home {current}); "
                "call configure_prefect() before importing prefect"
            )
