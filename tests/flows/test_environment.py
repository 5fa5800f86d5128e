"""Prefect's settings: defaults the user did not export, a home made with its parents."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flows.environment import prefect_defaults

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_the_defaults_keep_prefect_local_quiet_and_patient(tmp_path: Path) -> None:
    defaults = prefect_defaults(tmp_path / "prefect")
    assert defaults["PREFECT_HOME"] == str((tmp_path / "prefect").resolve())
    assert defaults["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert defaults["PREFECT_LOGGING_EXTRA_LOGGERS"] == "sracl_core"
    assert "PREFECT_HOME" not in prefect_defaults()


def test_an_exported_setting_wins_and_a_missing_home_is_created(tmp_path: Path) -> None:
    """In a fresh interpreter: Prefect reads its settings once, at import."""
    home = tmp_path / "fresh" / "clone" / "prefect"
    script = ("from pathlib import Path; import sys; from flows.environment import "
              "configure_prefect; configure_prefect(Path(sys.argv[1])); import os; "
              "print(os.environ['PREFECT_HOME'], os.environ['PREFECT_SERVER_LOGGING_LEVEL'])")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    environment["PREFECT_SERVER_LOGGING_LEVEL"] = "DEBUG"
    out = subprocess.run([sys.executable, "-c", script, str(home)], cwd=PROJECT_ROOT,
                         env=environment, capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(home.resolve()), "DEBUG"]
    assert home.is_dir()
