"""The data files a pipeline config names, for scripts that read them directly.

The benchmarks train on the SASRec text files without running the ingest
stage. They take those files from a config's ``data.source`` (or from explicit
paths) rather than from a default path that exists on one machine only, so a
checkout elsewhere only has to point its config at its own copy of the data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sracl_core.config import load_config
from sracl_core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = PROJECT_ROOT / "configs" / "beauty.yaml"


def sasrec_files(config: Path, overrides: list[str] | tuple[str, ...] = ()
                 ) -> tuple[Path, Path | None]:
    """``(interactions, items)`` of a config whose ``data.source`` has ``format: sasrec``.

    Other formats are refused: the scripts read integer ``user item`` lines
    straight from the file; ``sracl data sample`` writes that format from any source.
    """
    source = load_config(config, overrides).data.source
    if source.format != "sasrec":
        raise ConfigError(
            f"{config}: data.source.format is {source.format!r}; this script reads the "
            "SASRec text files (format: sasrec). Write them from this source with "
            f"'sracl data sample --config {config}', or pass the files with --data"
        )
    return source.interactions, source.items


def add_data_arguments(parser: argparse.ArgumentParser, *, items: bool = False) -> None:
    """``--config`` (default ``configs/beauty.yaml``), ``--set`` and ``--data`` [``--items``]."""
    group = parser.add_argument_group(
        "data", "the dataset: the data.source (format: sasrec) of --config, unless --data "
        "names the files")
    group.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                       help="pipeline config to read data.source from "
                       "(default: %(default)s)")
    group.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE",
                       help="config override, e.g. data.source.interactions=PATH (repeatable)")
    group.add_argument("--data", type=Path,
                       help="the 'user item' interactions file (instead of the config's)")
    if items:
        group.add_argument("--items", type=Path,
                           help="the items TSV (instead of the config's data.source.items)")


def resolve_data_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fill ``args.data`` (and ``args.items`` when defined) from the config where not given.

    A problem with the config ends the script through ``parser.error`` with the
    config's own message, instead of a traceback.
    """
    wants_items = hasattr(args, "items")
    if args.data is not None and (not wants_items or args.items is not None):
        return
    try:
        interactions, items = sasrec_files(args.config, args.overrides)
    except ConfigError as error:
        parser.error(str(error))
    if args.data is None:
        args.data = interactions
    if wants_items and args.items is None:
        if items is None:
            parser.error(f"{args.config}: data.source has no items file; pass --items")
        args.items = items
