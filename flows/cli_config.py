"""``sracl config``: what a config can say, and what one says once resolved."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli_common import DEFAULT_CONFIG, ConfigOption, OverrideOption, fail
from sracl_core.errors import ConfigError

config_app = typer.Typer(help="Config keys: every one with its default and meaning, or a "
                              "config resolved with its overrides.", no_args_is_help=True)


@config_app.command("reference")
def config_reference_command(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the Markdown there instead of printing it")] = None,
) -> None:
    """Every config key: its default, bounds, whether it changes results (fingerprinted) or
    only how a stage runs, and what it means; one table per section and per variant of a
    choice (backbone, objective, LLM backend, encoder, reader). docs/configuration.md is
    this output."""
    from sracl_core.config_reference import config_reference

    text = config_reference()
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}")


@config_app.command("show")
def config_show(config: ConfigOption = DEFAULT_CONFIG,
                overrides: OverrideOption = None) -> None:
    """The config with its overrides applied and every default filled in, as YAML (the
    form each MLflow run records): what a run of this config and these --set would use."""
    from sracl_core.config import dump_config, load_config

    try:
        resolved = load_config(config, overrides or [])
    except ConfigError as error:
        fail(error)
    typer.echo(dump_config(resolved), nl=False)
