"""What every ``sracl`` command shares: the console, the config options, loading and failing."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from flows import console as console_setup
from flows.shutdown import Stopped, signals_raise
from sracl_core.config import PipelineConfig, load_config
from sracl_core.errors import SraclError
from sracl_core.preflight import check_cache_root, check_config, check_ingested
from sracl_core.stopping import StopRequested, stop_signal

console = Console(soft_wrap=True)  # paths and commands must stay copyable: never hard-wrapped
T = TypeVar("T")

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="pipeline YAML config")]
OverrideOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="override a config key (repeatable), "
                 "e.g. --set train.objective.alpha=0.05; a relative path is read from the "
                 "config file's folder, as in the file"),
]
PROJECT_CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def project_config(name: str) -> Path:
    """``configs/<name>`` of the working directory if it has one, else of the checkout this
    package runs from, so the default config works from any folder."""
    local = Path("configs") / name
    return local if local.is_file() else PROJECT_CONFIGS / name


DEFAULT_CONFIG = project_config("default.yaml")


def configure_logging(verbose: bool = False, log_path: Path | None = None) -> None:
    console_setup.configure_logging(log_path, verbose=verbose)


def load(config: Path, overrides: list[str] | None, *, preflight: bool = False,
         origins: Mapping[str, str] | None = None) -> PipelineConfig:
    """The validated config; with ``preflight`` also the checks of names, files and data fit.
    ``origins`` says where overrides not typed on this command line came from."""
    try:
        resolved = load_config(config, overrides or [], origins)
        check_cache_root(resolved.cache_root, writing=False)
        if preflight:
            check_config(resolved, config)
            check_ingested(resolved)
        return resolved
    except SraclError as error:
        fail(error)


def fail(error: Exception, log_path: Path | None = None) -> typer.Exit:
    console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    if log_path is not None:
        console.print(f"log: {log_path}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)




def orchestrated(resolved: PipelineConfig, label: str, verbose: bool,
                 start: Callable[[], T], before: Callable[[], None] | None = None) -> T:
    """Run a Prefect flow for a command: a log file for the engines, Prefect's state under the
    cache, and any failure as one line (its traceback in the log). ``before`` runs first,
    without the orchestrator, so what it finds wrong fails before any server starts; the
    tracking store is checked even before that. SIGINT and SIGTERM end the command
    cleanly (its runs closed, the temporary server stopped) with exit code 130 or 143."""
    try:
        check_cache_root(resolved.cache_root, writing=True)
    except SraclError as error:
        fail(error)
    log_path = console_setup.new_log_path(resolved.cache_root)
    closed = ("the runs it had started are marked as killed" if resolved.tracking.enabled
              else "the flow runs it had started are marked as crashed")
    configure_logging(verbose, log_path)
    console.print(f"{label}: engine and orchestrator messages go to {log_path}",
                  highlight=False, soft_wrap=True)
    try:
        with signals_raise():
            if resolved.tracking.enabled:
                from sracl_core.tracking.store import check_store

                check_store(resolved)
            if before is not None:
                before()
            from flows.environment import configure_prefect
            from flows.prefect_server import temporary_server

            configure_prefect(resolved.cache_root / "prefect")
            with temporary_server(Path(os.environ["PREFECT_HOME"]).expanduser()):
                return start()
    except Stopped as stop:
        console_setup.record_failure(stop)
        console.print(f"stopped by {stop.name}: {closed} (log: {log_path})", highlight=False,
                      soft_wrap=True)
        raise typer.Exit(code=stop.exit_code) from None
    except StopRequested as stop:  # the signal came while training: it stopped after its step
        console_setup.record_failure(stop)
        signum = stop_signal() or signal.SIGINT
        console.print(f"stopped by {signal.Signals(signum).name}: training {stop}; {closed} "
                      f"(log: {log_path})", highlight=False, soft_wrap=True)
        raise typer.Exit(code=128 + signum) from None
    except SraclError as error:
        console_setup.record_failure(error)
        fail(_with_hint(error, resolved.cache_root), log_path)
    except Exception as error:
        console_setup.record_failure(error)
        where = ("no traceback: the log file could not be written" if
                 console_setup.log_file_failed() else "the traceback is in the log")
        fail(_with_hint(RuntimeError(f"{type(error).__name__}: {error} ({where})"),
                        resolved.cache_root, error), log_path)


def _with_hint(error: Exception, root: Path, cause: BaseException | None = None) -> Exception:
    """The error, followed by what to do when a full disk or an unreachable Prefect server
    (``PREFECT_API_URL``) is why it happened."""
    from sracl_core.disk_space import full_disk_note

    note = full_disk_note(cause or error, root)
    api = os.environ.get("PREFECT_API_URL")
    if note is None and api and "Failed to reach API" in str(error):
        note = (f"PREFECT_API_URL is {api}: start that Prefect server, or unset the variable "
                "and sracl runs a temporary one of its own")
    return error if note is None else RuntimeError(f"{error}\n{note}")
