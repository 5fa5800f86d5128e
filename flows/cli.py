"""The ``sracl`` command line.

Commands that only read (``status``, ``inspect``) or prepare inputs (``data``)
call the library directly; ``run`` goes through the pipeline so that caching,
tracking and orchestration behave the same from the shell and from a schedule.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from sracl_core.config import PipelineConfig, load_config
from sracl_core.errors import SraclError
from sracl_core.stages.graph import STAGE_ORDER, plan

app = typer.Typer(
    help="SRA-CL: semantic retrieval augmented contrastive learning for sequential "
    "recommendation, as a cached pipeline (ingest -> prompts -> profiles -> embeddings -> "
    "neighbours -> train -> evaluate).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="pipeline YAML config")]
OverrideOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="override a config key (repeatable), "
                 "e.g. --set train.objective.alpha=0.05"),
]
DEFAULT_CONFIG = Path("configs/default.yaml")


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, rich_tracebacks=False)],
        force=True,
    )


def load(config: Path, overrides: list[str] | None) -> PipelineConfig:
    try:
        return load_config(config, overrides or [])
    except SraclError as error:
        fail(error)


def fail(error: Exception) -> typer.Exit:
    console.print(f"[bold red]error:[/] {error}", highlight=False)
    raise typer.Exit(code=1)


@app.command()
def status(config: ConfigOption = DEFAULT_CONFIG, overrides: OverrideOption = None) -> None:
    """Show each stage as cached or missing for this config, with its fingerprint and folder."""
    resolved = load(config, overrides)
    table = Table(title=f"{resolved.dataset} ({config})")
    for column in ("stage", "fingerprint", "state", "artifact"):
        table.add_column(column)
    for entry in plan(resolved):
        state = "[green]cached[/]" if entry.complete else "[yellow]missing[/]"
        table.add_row(entry.stage, entry.fingerprint, state, entry.path)
    console.print(table)


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
    configure_logging(verbose)
    resolved = load(config, overrides)
    for name in (stage, until):
        if name is not None and name not in STAGE_ORDER:
            fail(ValueError(f"unknown stage {name!r}; stages: {', '.join(STAGE_ORDER)}"))
    from flows.environment import configure_prefect

    configure_prefect(resolved.cache_root / "prefect")
    from flows.pipeline import pipeline_flow
    from flows.summary import print_summary

    try:
        result = pipeline_flow(config_path=str(config.resolve()), overrides=list(overrides or []),
                               stage=stage, downstream=downstream, until=until, force=force)
    except SraclError as error:
        fail(error)
    print_summary(console, result)


@app.command()
def recommend(
    users: Annotated[list[int], typer.Argument(help="user ids (1-based, as in the ingest tables)")],
    config: ConfigOption = DEFAULT_CONFIG,
    overrides: OverrideOption = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", help="list length")] = 10,
    include_history: Annotated[bool, typer.Option(help="allow items the user already has")]
    = False,
) -> None:
    """Top-K next items for users, from the trained model of this config (run train first)."""
    from sracl_core.serving import recommend_for_users

    resolved = load(config, overrides)
    try:
        rows = recommend_for_users(resolved, users, top_k, exclude_history=not include_history)
    except SraclError as error:
        fail(error)
    table = Table(title=f"top-{top_k} for {resolved.dataset}")
    for column in ("user", "rank", "item", "original id", "title"):
        table.add_column(column)
    for row in rows.iter_rows(named=True):
        table.add_row(str(row["user"]), str(row["rank"]), str(row["item"]),
                      row["original_id"], row["title"] or "")
    console.print(table)


data_app = typer.Typer(help="Prepare datasets: download public ones, build samples.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("sample")
def data_sample(
    config: ConfigOption = Path("configs/beauty.yaml"),
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
    except SraclError as error:
        fail(error)
    sample = dense_sample(raw, SampleSpec(users, popular_items, resolved.data.k_core, seed))
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


inspect_app = typer.Typer(help="Look inside computed artifacts.", no_args_is_help=True)
app.add_typer(inspect_app, name="inspect")


@inspect_app.command("neighbours")
def inspect_neighbours(
    config: ConfigOption = DEFAULT_CONFIG,
    overrides: OverrideOption = None,
    item: Annotated[int | None, typer.Option(help="item id (1..number of items)")] = None,
    user: Annotated[int | None, typer.Option(help="user id")] = None,
) -> None:
    """Print an item (or a user) with its semantic neighbours, their scores and profiles."""
    from sracl_core.semantic import inspect

    if (item is None) == (user is None):
        fail(ValueError("give exactly one of --item ID or --user ID"))
    resolved = load(config, overrides)
    try:
        view = (inspect.item_neighbours(resolved, item) if item is not None
                else inspect.user_neighbours(resolved, user))
    except SraclError as error:
        fail(error)
    anchor = view.anchor
    console.print(f"[bold]{anchor.label}[/] (id {anchor.id})", highlight=False)
    console.print(f"  profile: {anchor.detail}", highlight=False)
    table = Table(title=f"top-{len(view.neighbours)} semantic neighbours")
    for column in ("#", "score", "id", "neighbour", "profile"):
        table.add_column(column, overflow="fold")
    for rank, entry in enumerate(view.neighbours, start=1):
        table.add_row(str(rank), f"{entry.score:.3f}", str(entry.id), entry.label, entry.detail)
    console.print(table)


if __name__ == "__main__":
    app()
