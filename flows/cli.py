"""The ``sracl`` command line.

Commands that only read (``status``, ``inspect``) or prepare inputs (``data``)
call the library directly; ``run`` goes through the pipeline so that caching,
tracking and orchestration behave the same from the shell and from a schedule.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli_cache import print_problems, state_cell, verify
from flows.cli_common import (
    DEFAULT_CONFIG,
    ConfigOption,
    OverrideOption,
    configure_logging,
    console,
    fail,
    load,
    orchestrated,
    project_config,
)
from flows.cli_config import config_app
from flows.cli_results import inspect_app, load_for_reading, recommend
from flows.cli_transfer import cache_app
from flows.summary import print_summary
from sracl_core.config import load_config
from sracl_core.errors import ConfigError, SraclError
from sracl_core.last_run import record
from sracl_core.preflight import check_config, check_ingested, check_machine
from sracl_core.stages.graph import STAGE_ORDER, check_selection, plan

app = typer.Typer(
    help="SRA-CL: semantic retrieval augmented contrastive learning for sequential "
    "recommendation, as a cached pipeline (ingest -> prompts -> profiles -> embeddings -> "
    "neighbours -> train -> evaluate).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command()
def status(config: ConfigOption = DEFAULT_CONFIG, overrides: OverrideOption = None) -> None:
    """Show each stage as cached or missing (or corrupt, naming the damaged file) for this
    config, with its fingerprint and folder; without --set, for the last `sracl run` of this
    file's overrides. Exits 1 when a stage is corrupt, so scripts and schedules notice."""
    resolved = load_for_reading(config, overrides)
    try:
        check_config(resolved, config)
    except SraclError as error:
        fail(error)
    table = Table(title=f"{resolved.dataset} ({config})")
    for column in ("stage", "fingerprint", "state", "artifact"):
        table.add_column(column)
    entries = plan(resolved)
    for entry in entries:
        table.add_row(entry.stage, entry.fingerprint, state_cell(entry), entry.path)
    console.print(table)
    print_problems(entries)
    try:
        check_ingested(resolved)
    except SraclError as error:
        console.print(f"[bold yellow]warning:[/] {error}", highlight=False, soft_wrap=True)
    if any(entry.state == "corrupt" for entry in entries):
        raise typer.Exit(code=1)


@app.command()
def run(
    config: ConfigOption = DEFAULT_CONFIG,
    overrides: OverrideOption = None,
    stage: Annotated[str | None, typer.Option(help=f"run one stage: {', '.join(STAGE_ORDER)}")]
    = None,
    downstream: Annotated[bool, typer.Option(help="with --stage: also every stage after it")]
    = False,
    until: Annotated[str | None, typer.Option(help="stop after this stage")] = None,
    force: Annotated[bool, typer.Option(help="recompute the selected stages even if cached")]
    = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the pipeline (or one stage) as a Prefect flow tracked in MLflow; cached stages are
    skipped, changed ones recomputed. Without PREFECT_API_URL Prefect runs a temporary local
    server; its state lives in <cache_root>/prefect unless PREFECT_HOME is set."""
    for name in (stage, until):
        if name is not None and name not in STAGE_ORDER:
            fail(ValueError(f"unknown stage {name!r}; expected one of: {', '.join(STAGE_ORDER)}"))
    resolved = load(config, overrides, preflight=True)
    try:
        selected = check_selection(resolved, stage, downstream=downstream, until=until)
        check_machine(resolved, config, selected, force)
    except SraclError as error:
        fail(error)
    computed_before: dict[str, float] = {}

    def ingest_first() -> None:
        """Read the input before the orchestrator starts: a bad file fails in seconds, and
        settings that must fit the data are checked before any LLM work. The flow then finds
        ingest cached and reports it as computed by this run."""
        from sracl_core.stages.graph import select_stages
        from sracl_core.stages.runner import run_stage

        selected = [] if force else select_stages(resolved, stage, downstream=downstream,
                                                  until=until)
        if "ingest" in selected:
            started = time.perf_counter()
            if not run_stage(resolved, "ingest").cached:
                computed_before["ingest"] = round(time.perf_counter() - started, 3)
            check_ingested(resolved, selected)

    def start() -> dict:
        from flows.pipeline import pipeline_flow

        return pipeline_flow(config_path=str(config.resolve()), overrides=list(overrides or []),
                             stage=stage, downstream=downstream, until=until, force=force,
                             computed_before=computed_before)

    record(config, list(overrides or []), finished=False)
    result = orchestrated(resolved, f"sracl {resolved.dataset}", verbose, start, ingest_first)
    record(config, list(overrides or []), finished=True)
    print_summary(console, result)


@app.command()
def experiment(
    grid: Annotated[Path, typer.Option(help="grid YAML: variants (overrides) x seeds")],
    config: ConfigOption = DEFAULT_CONFIG,
    overrides: OverrideOption = None,
    jobs: Annotated[int, typer.Option(help="train runs at once (after the shared stages)",
                                      min=1)] = 1,
    threads: Annotated[int | None, typer.Option(help="torch threads per run when jobs > 1",
                                                min=1)] = None,
    runner: Annotated[str, typer.Option(help="where the train runs go: 'local' worker "
                                        "processes, or 'ray' (prefect-ray's task runner)")]
    = "local",
    ray_address: Annotated[str | None, typer.Option(
        help="with --runner ray: the cluster to join ('auto', 'ray://head:10001'); "
        "default: a local Ray started here")] = None,
    variant: Annotated[list[str] | None, typer.Option(
        help="only this variant (repeatable; the baseline and compare_to targets run)")] = None,
    keep_going: Annotated[bool, typer.Option(
        "--keep-going", help="a failed run does not stop the others: every other run goes "
        "on, and the command then fails naming the failed ones")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run a grid of variants x seeds as tracked pipeline runs sharing the cache, then write
    the comparison table (mean ± std, gain over the baseline, paired p-value) and log it."""
    from sracl_core.experiment.grid import (
        check_grid_metrics,
        grid_origins,
        grid_runs,
        load_grid,
        select_variants,
    )

    resolved = load(config, overrides)
    try:
        chosen_grid = select_variants(load_grid(grid), variant)
        for run in grid_runs(chosen_grid, list(overrides or [])):
            run_config = load_config(config, list(run.overrides),
                                     origins=grid_origins(chosen_grid, grid, run))
            check_config(run_config, f"{grid} ({run.label})")
            check_grid_metrics(chosen_grid, grid, run, run_config.evaluate.metric_names())
    except SraclError as error:
        fail(error)

    from sracl_core.experiment.grid import RUNNERS

    if runner not in RUNNERS:
        fail(ConfigError(f"--runner must be one of {', '.join(RUNNERS)}, got {runner!r}"))

    def start() -> dict:
        from flows.experiment import experiment_flow, ray_task_runner

        chosen = experiment_flow
        if runner == "ray":
            chosen = experiment_flow.with_options(task_runner=ray_task_runner(ray_address))
        return chosen(config_path=str(config.resolve()), grid_path=str(grid.resolve()),
                      overrides=list(overrides or []), jobs=jobs, threads=threads,
                      runner=runner, variants=variant, keep_going=keep_going)

    result = orchestrated(resolved, f"sracl experiment {grid}", verbose, start)
    console.print(result["markdown"], markup=False, highlight=False, soft_wrap=True)
    console.print(f"tables: {result['folder']}", highlight=False, soft_wrap=True)
    if result["mlflow_url"]:
        console.print(f"mlflow: {result['mlflow_url']}", highlight=False, soft_wrap=True)


app.command()(recommend)
app.command()(verify)


data_app = typer.Typer(help="Prepare datasets: download public ones, build samples.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")


BEAUTY_CONFIG = project_config("beauty.yaml")


@data_app.command("sample")
def data_sample(
    config: ConfigOption = BEAUTY_CONFIG,
    output: Annotated[Path, typer.Option(help="folder for interactions.txt and items.tsv")] = Path(
        "data/beauty_sample"),
    users: Annotated[int, typer.Option(help="users drawn before re-filtering")] = 220,
    popular_items: Annotated[int, typer.Option(help="keep only the most popular items")] = 200,
    seed: int = 7,
) -> None:
    """Cut a small dense k-core sample of a dataset (how the embedded default was made)."""
    from sracl_core.data.readers import read_source
    from sracl_core.data.sample import SampleSpec, dense_sample, write_sasrec

    resolved = load(config, None)
    try:
        raw = read_source(resolved.data.source)
        sample = dense_sample(raw, SampleSpec(users, popular_items, resolved.data.k_core, seed))
    except SraclError as error:
        fail(error)
    columns = write_sasrec(sample, output)
    console.print(f"wrote {sample.interactions['user_id'].n_unique()} users, "
                  f"{sample.interactions['item_id'].n_unique()} items, "
                  f"{sample.interactions.height} interactions to {output}"
                  + (f" (item columns: {', '.join(columns)})" if columns else ""))


@data_app.command("download")
def data_download(
    name: Annotated[str, typer.Argument(
        help="dataset: movielens-100k, movielens-1m, amazon2014-beauty, amazon2014-sports, "
        "amazon2014-toys, amazon2023-<category> (e.g. amazon2023-all-beauty)")],
    dest: Annotated[Path, typer.Option(help="folder to download into")] = Path("data"),
    retries: Annotated[int, typer.Option(help="resume attempts after a dropped connection")]
    = 3,
) -> None:
    """Download a public dataset: resumable (.part + HTTP Range), checksum-verified, unzipped."""
    from sracl_core.data import download

    configure_logging()
    try:
        paths = download.download_dataset(name, dest, retries=retries)
    except SraclError as error:
        fail(error)
    for path in paths:
        console.print(f"downloaded {path}")
    hint = download.REGISTRY[name.lower()].source_hint.format(dest=dest)
    console.print("read it with this data.source section:\n" + hint, highlight=False)


models_app = typer.Typer(help="Embedded models: list them, prepare them once for offline use.",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list() -> None:
    """Show the embedded models and whether each is ready in the local model cache."""
    from sracl_core.semantic import models

    table = Table(title=f"embedded models (cache: {models.model_cache_dir()})")
    for column in ("name", "kind", "ready", "description"):
        table.add_column(column)
    for entry in models.REGISTRY.values():
        name = models.EMBEDDED_PREFIX + entry.name
        table.add_row(name, entry.kind, "yes" if models.is_prepared(name) else "no",
                      entry.description)
    console.print(table)


@models_app.command("prepare")
def models_prepare(
    name: Annotated[list[str] | None, typer.Argument(
        help="embedded model names (default: all), e.g. embedded:smollm2-135m-instruct")] = None,
    force: Annotated[bool, typer.Option(help="convert again even if already prepared")] = False,
) -> None:
    """Make embedded models loadable offline (the LLM's GGUF -> a Hugging Face folder), once."""
    from sracl_core.semantic import models

    configure_logging()
    names = name or [models.EMBEDDED_PREFIX + entry for entry in models.REGISTRY]
    for model in names:
        try:
            path = models.prepare(model, force=force)
        except SraclError as error:
            fail(error)
        console.print(f"{model}: ready at {path}")


app.add_typer(inspect_app, name="inspect")
app.add_typer(cache_app, name="cache")
app.add_typer(config_app, name="config")


if __name__ == "__main__":
    app()
