"""Commands that read computed artifacts: top-K recommendations, neighbour lists, and
where each run of an experiment grid stands.

They take and print the dataset's own ids, and without ``--set`` they read the
artifacts of the last ``sracl run`` of the config file, overrides included.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from flows.cli_common import (
    DEFAULT_CONFIG,
    ConfigOption,
    OverrideOption,
    console,
    fail,
    load,
)
from sracl_core.config import PipelineConfig
from sracl_core.errors import SraclError

TITLE_WIDTH = 80
"""Characters of a title in ``recommend``'s table (``--json`` gives it whole)."""

if TYPE_CHECKING:  # the progress module imports torch; the CLI imports it when used
    from sracl_core.experiment.grid import GridConfig
    from sracl_core.experiment.progress import GridTimeLeft, RunProgress

InternalIdsOption = Annotated[bool, typer.Option(
    "--internal-ids", help="ids are the pipeline's internal 1..N ids, not the dataset's own")]


def load_for_reading(config: Path, overrides: list[str] | None,
                     notes: Console = console) -> PipelineConfig:
    """The config of the artifacts to read: without --set, the last `sracl run` of this file's
    overrides, so its results are reachable without repeating them. A remembered override
    the file no longer takes is blamed on that run, with the way out (``notes``: where the
    note about the remembered run goes; stderr when stdout is for data)."""
    origins: dict[str, str] = {}
    if not overrides:
        from sracl_core.last_run import last_run

        last = last_run(config)
        overrides = last.overrides if last else []
        if last and (overrides or not last.finished):
            unfinished = "" if last.finished else ", which did not finish"
            given = ": --set " + " --set ".join(overrides) if overrides else ""
            notes.print(f"(the last `sracl run` of {config}{unfinished}{given})",
                        highlight=False, soft_wrap=True)
        origins = {override: f"--set {override}, remembered from the last `sracl run` of "
                             f"{config}; give --set to read other artifacts"
                   for override in overrides}
    return load(config, overrides, origins=origins)


def recommend(
    users: Annotated[list[str], typer.Argument(help="user ids, as in the dataset")],
    config: ConfigOption = DEFAULT_CONFIG,
    overrides: OverrideOption = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="list length")] = 10,
    include_history: Annotated[bool, typer.Option(help="allow items the user already has")]
    = False,
    internal_ids: InternalIdsOption = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="one JSON object per line (user, rank, item, title) instead of the "
        "table, for scripts")] = False,
) -> None:
    """Top-K next items for users, from the trained model of this config (run it first)."""
    from sracl_core.ids import id_maps
    from sracl_core.serving import recommend_for_users

    resolved = load_for_reading(config, overrides, Console(stderr=True) if as_json else console)
    try:
        user_map, _ = id_maps(resolved)
        internal = user_map.internal(users, internal_ids=internal_ids)
        rows = recommend_for_users(resolved, internal, top_k, exclude_history=not include_history)
    except SraclError as error:
        fail(error)
    if as_json:
        for row in rows.iter_rows(named=True):
            record = {"user": row["original_user"], "rank": row["rank"],
                      "item": row["original_id"], "title": row["title"]}
            if internal_ids:
                record.update(internal_user=row["user"], internal_item=row["item"])
            typer.echo(json.dumps(record, ensure_ascii=False))
        return
    table = Table(title=f"top-{top_k} for {resolved.dataset}")
    columns = ["user", "rank", "item", "title"] + (["internal ids"] if internal_ids else [])
    for column in columns:  # a title can be pages long: one line each, cut with an ellipsis
        table.add_column(column, no_wrap=column == "title", overflow="ellipsis",
                         max_width=TITLE_WIDTH if column == "title" else None)
    for row in rows.iter_rows(named=True):
        cells = [row["original_user"], str(row["rank"]), row["original_id"], row["title"] or ""]
        if internal_ids:
            cells.append(f"user {row['user']}, item {row['item']}")
        table.add_row(*cells)
    console.print(table)


inspect_app = typer.Typer(help="Look inside computed artifacts.", no_args_is_help=True)


@inspect_app.command("neighbours")
def inspect_neighbours(
    config: ConfigOption = DEFAULT_CONFIG,
    overrides: OverrideOption = None,
    item: Annotated[str | None, typer.Option(help="item id, as in the dataset")] = None,
    user: Annotated[str | None, typer.Option(help="user id, as in the dataset")] = None,
    internal_ids: InternalIdsOption = False,
) -> None:
    """Print an item (or a user) with its semantic neighbours, their scores and profiles."""
    from flows.neighbour_lists import Entry, item_neighbours, user_neighbours
    from sracl_core.ids import id_maps

    if (item is None) == (user is None):
        fail(ValueError("give exactly one of --item ID or --user ID"))
    resolved = load_for_reading(config, overrides)
    try:
        user_map, item_map = id_maps(resolved)
        if item is not None:
            view = item_neighbours(
                resolved, item_map.internal([item], internal_ids=internal_ids)[0])
        else:
            view = user_neighbours(
                resolved, user_map.internal([str(user)], internal_ids=internal_ids)[0])
    except SraclError as error:
        fail(error)

    def shown_id(entry: Entry) -> str:
        return f"{entry.original_id} (internal {entry.id})" if internal_ids else entry.original_id

    anchor = view.anchor
    console.print(f"[bold]{anchor.label}[/] (id {shown_id(anchor)})", highlight=False)
    console.print(f"  profile: {anchor.detail}", highlight=False)
    table = Table(title=f"top-{len(view.neighbours)} semantic neighbours")
    for column in ("#", "score", "id", "neighbour", "profile"):
        table.add_column(column, overflow="fold")
    for rank, entry in enumerate(view.neighbours, start=1):
        table.add_row(str(rank), f"{entry.score:.3f}", shown_id(entry), entry.label,
                      entry.detail)
    console.print(table)


@inspect_app.command("pool")
def inspect_pool(config: ConfigOption = DEFAULT_CONFIG, overrides: OverrideOption = None) -> None:
    """How many of the training samples' profile neighbours are their own user's, and how many
    hold their target item: the label inside an L_CS positive when it is the own user's (the
    reference's prefix pool), the collaborative signal when it is another user's."""
    from flows.neighbour_lists import pool_summary

    resolved = load_for_reading(config, overrides)
    try:
        pool = pool_summary(resolved)
    except SraclError as error:
        fail(error)
    console.print(
        f"{resolved.dataset}: {pool.samples} training samples, top-{pool.k} profile neighbours "
        f"(prompts.granularity={resolved.prompts.granularity}, "
        f"neighbours.exclude_same_user={str(resolved.neighbours.exclude_same_user).lower()})",
        highlight=False, soft_wrap=True)
    for share, what in (
            (pool.own_user, "neighbour slots that are the sample's own user"),
            (pool.own_user_target,
             "neighbour slots of the own user holding the target (its label)"),
            (pool.other_user_target, "neighbour slots of other users holding the target"),
            (pool.samples_with_own_target,
             "samples with an own-user neighbour holding their target")):
        console.print(f"  {share:7.2%}  {what}", highlight=False)


@inspect_app.command("grid")
def inspect_grid(
    grid: Annotated[Path, typer.Option(help="grid YAML of `sracl experiment`")],
    config: ConfigOption = DEFAULT_CONFIG,
    overrides: OverrideOption = None,
    variant: Annotated[list[str] | None, typer.Option(
        help="only this variant (repeatable; the baseline and compare_to targets too)")] = None,
    table: Annotated[bool, typer.Option(
        "--table", help="also the comparison table over the runs finished so far")] = False,
) -> None:
    """Where each run of a grid stands (finished, trained, part-trained, not started), from
    the cache alone: safe while the grid runs, and after importing a bundle elsewhere. With
    --table, the grid's table (mean ± std, gain, paired p over common seeds) of the finished
    runs, before the grid is done; nothing is written or logged."""
    from sracl_core.experiment.grid import load_grid, select_variants
    from sracl_core.experiment.progress import PACE_EPOCHS, grid_progress, grid_time_left

    load(config, overrides)
    try:
        chosen = select_variants(load_grid(grid), variant)
        runs = grid_progress(config, chosen, list(overrides or []))
    except SraclError as error:
        fail(error)
    metric = chosen.metrics[0]
    console.print(f"{chosen.name}: {len(runs)} runs ({metric}: test value of a finished run)",
                  highlight=False)
    width = max(len(run.label) for run in runs)
    for run in runs:
        line = f"  {run.label:<{width}}  {run.state:<12}"
        if run.state == "damaged":
            line += "  its resume checkpoint cannot be read (`sracl run` names the file)"
        elif run.state != "not started":
            at = f", step {run.step}" if run.state == "part-trained" and run.step else ""
            if run.state == "trained":
                at = ", evaluating" if run.damaged_evaluation is None else ""
            line += f"  {run.epochs_done:>2}/{run.epochs} epochs{at:<11}"
            line += f"  {run.train_seconds / 60:5.0f} min"
            if run.damaged_evaluation is not None:
                line += (f"  evaluate artifact damaged ({run.damaged_evaluation}); the next "
                         "`sracl experiment` recomputes it")
        if run.best_epoch is not None:
            line += f"  best epoch {run.best_epoch}"
        if run.metric is not None:
            line += f"  {metric} {run.metric:.4f}"
        if run.seconds_left is not None:
            line += f"  ~{run.seconds_left / 60:.0f} min left"
        console.print(line.rstrip(), highlight=False, soft_wrap=True)
    counts = {state: sum(run.state == state for run in runs)
              for state in ("finished", "trained", "part-trained", "damaged", "not started")
              if state != "damaged" or any(run.state == state for run in runs)}
    console.print(", ".join(f"{count} {state}" for state, count in counts.items()),
                  highlight=False)
    if any(run.seconds_left is not None for run in runs):
        console.print("(min left: each part-trained run's remaining epochs at the pace of its "
                      f"last {PACE_EPOCHS}, on the machine that trained them)", highlight=False)
    print_time_left(grid_time_left(runs))
    if table:
        print_partial_table(chosen, runs)


def print_time_left(left: GridTimeLeft) -> None:
    """The run time the grid still needs, if every run trains all its epochs."""
    if left.runs:
        side_by_side = max(left.seconds / 2, left.longest)
        console.print(f"training left: about {left.seconds / 3600:.1f} h of run time over "
                      f"{left.runs} runs if each trains all its epochs (each variant at its "
                      f"epoch time so far; two runs at a time: about {side_by_side / 3600:.1f} "
                      "h)", highlight=False)
    if left.unmeasured:
        named = ", ".join(f"{variant} ({count})" for variant, count in left.unmeasured.items())
        console.print(f"not estimated, no epoch time known yet: {named}", highlight=False)


def print_partial_table(grid: GridConfig, runs: list[RunProgress]) -> None:
    """The table `sracl experiment` writes at the end, over the finished runs only."""
    import polars as pl

    from sracl_core.experiment.aggregate import (
        RUN_SCHEMA,
        markdown_table,
        mean_minutes,
        per_seed_table,
        summarise,
    )

    rows = [(run.variant, run.seed, name, value) for run in runs if run.state == "finished"
            for name, value in run.metrics.items()]
    finished = sum(run.state == "finished" for run in runs)
    if not rows:
        console.print("no finished runs yet: no table", highlight=False)
        return
    metrics = pl.DataFrame(rows, schema=RUN_SCHEMA, orient="row")
    summary = summarise(metrics, grid.baseline, grid.metrics, grid.reference, grid.compare_to)
    console.print(f"\nover the {finished} finished runs of {len(runs)}:", highlight=False)
    minutes = mean_minutes([(run.variant, run.train_seconds) for run in runs
                            if run.state == "finished"])
    console.print(markdown_table(summary, grid.metrics, grid.baseline, minutes), markup=False,
                  highlight=False, soft_wrap=True)
    console.print("\n" + per_seed_table(metrics, grid.metrics), markup=False, highlight=False,
                  soft_wrap=True)
