"""How the CLI shows the cache's health: artifact states for ``status``, and ``verify``.

A damaged artifact is shown as corrupt with the file at fault and what to do,
since the alternative is a reader's traceback on every later run.
"""

from __future__ import annotations

from collections import Counter

import typer

from flows.cli_common import DEFAULT_CONFIG, ConfigOption, OverrideOption, console, load
from sracl_core.artifact_integrity import CORRUPT, cache_artifacts, check_folder
from sracl_core.owned_folders import owner_record
from sracl_core.semantic.cache import FOLDER as LLM_CACHE
from sracl_core.semantic.cache import damaged_parts
from sracl_core.stages.graph import STAGE_ORDER, StageStatus

STATE_CELLS = {
    "cached": "[green]cached[/]",
    "unverified": "[green]cached[/] (no checksums)",
    "missing": "[yellow]missing[/]",
    "corrupt": "[bold red]corrupt[/]",
}
REPAIR_HINT = (f"`sracl run` with the config that made it moves a corrupt artifact to "
               f"<stage>/{CORRUPT}/ and computes it again")


def state_cell(entry: StageStatus) -> str:
    return STATE_CELLS[entry.state]


def print_problems(entries: list[StageStatus]) -> None:
    """One line per corrupt stage, below the table so that file paths print whole."""
    corrupt = [entry for entry in entries if entry.state == "corrupt"]
    for entry in corrupt:
        console.print(f"[bold red]corrupt:[/] {entry.stage}: {entry.problem}",
                      highlight=False, soft_wrap=True)
    if corrupt:
        console.print(REPAIR_HINT, highlight=False, soft_wrap=True)


def verify(config: ConfigOption = DEFAULT_CONFIG, overrides: OverrideOption = None) -> None:
    """Check every artifact under the config's cache root (all datasets) against the file
    sizes and checksums in its manifest, and that every LLM answer file reads; exit 1
    naming each damaged file. Also lists the temporary folders no run will remove (those
    without an owner record)."""
    root = load(config, overrides).cache_root
    if not root.is_dir():
        console.print(f"{root}: nothing cached yet", highlight=False, soft_wrap=True)
        return
    states: Counter[str] = Counter()
    for folder in cache_artifacts(root, STAGE_ORDER):
        verdict = check_folder(folder)
        states[verdict.state] += 1
        if verdict.state == "corrupt":
            console.print(f"[bold red]corrupt:[/] {verdict.problem}", highlight=False,
                          soft_wrap=True)
    damaged_answers = damaged_parts(root / LLM_CACHE)
    for part, problem in damaged_answers:
        console.print(f"[bold red]corrupt:[/] {part}: {problem} (LLM answers: the next "
                      f"profiles run moves it to {LLM_CACHE}/{CORRUPT}/ and asks its prompts "
                      "again)", highlight=False, soft_wrap=True)
    for folder in sorted(root.glob("*/*/.tmp-*")):
        if folder.is_dir() and owner_record(folder) is None:
            console.print(f"[yellow]left alone:[/] {folder} has no owner record (an older "
                          "sracl's or not sracl's), so no run removes it; delete it by hand "
                          "once nothing writes there", highlight=False, soft_wrap=True)
    console.print(f"{root}: {states.total()} artifacts, {states['cached']} sound, "
                  f"{states['unverified']} without checksums (written by an older sracl), "
                  f"{states['corrupt']} corrupt; {len(damaged_answers)} damaged LLM answer "
                  "files", highlight=False, soft_wrap=True)
    if states["corrupt"]:
        console.print(REPAIR_HINT, highlight=False, soft_wrap=True)
    if states["corrupt"] or damaged_answers:
        raise typer.Exit(code=1)
