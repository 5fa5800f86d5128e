import json
from pathlib import Path

import pytest

from sracl_core.config import load_config
from sracl_core.errors import ArtifactCorrupt, DataFormatError, StageInputMissing
from sracl_core.stages.graph import plan, stage_fingerprints, store_for
from sracl_core.stages.runner import run_stage
from tests.processes import finish, start


def test_second_run_is_cached_and_force_recomputes(tiny_config: Path):
    config = load_config(tiny_config)
    first = run_stage(config, "ingest")
    assert not first.cached
    manifest = Path(first.path) / "manifest.json"
    written = manifest.stat().st_mtime_ns
    second = run_stage(config, "ingest")
    assert second.cached and second.fingerprint == first.fingerprint
    assert manifest.stat().st_mtime_ns == written
    forced = run_stage(config, "ingest", force=True)
    assert not forced.cached
    assert manifest.stat().st_mtime_ns != written


def test_status_plan_flips_from_missing_to_cached(tiny_config: Path):
    config = load_config(tiny_config)
    assert [entry.complete for entry in plan(config)] == [False] * 7
    run_stage(config, "ingest")
    states = {entry.stage: entry.complete for entry in plan(config)}
    assert states["ingest"] and not states["prompts"]


def test_a_stage_whose_inputs_are_missing_says_which(tiny_config: Path):
    config = load_config(tiny_config)
    with pytest.raises(StageInputMissing, match=r"stage 'prompts' needs 'ingest'"):
        run_stage(config, "prompts")


def test_failed_stage_leaves_the_cache_as_it_was(tiny_config: Path):
    config = load_config(tiny_config)
    good = run_stage(config, "ingest")
    with open(config.data.source.interactions, "a") as handle:
        handle.write("4 x\n")
    broken = load_config(tiny_config)
    with pytest.raises(DataFormatError, match=r"interactions.txt:13: expected a non-negative"):
        run_stage(broken, "ingest")
    fingerprint = stage_fingerprints(broken)["ingest"]
    stage_dir = Path(good.path).parent
    assert sorted(p.name for p in stage_dir.iterdir()) == [good.fingerprint]
    assert fingerprint != good.fingerprint


OVERLAPPING_RUN = """
import json, logging, sys, time
from pathlib import Path

logging.basicConfig(level=logging.INFO, stream=sys.stdout, force=True)
import dataclasses
from sracl_core.config import load_config
from sracl_core.stages.graph import STAGES
from sracl_core.stages.runner import run_stage

config_path, marker, me, peer_log = sys.argv[1:5]
compute = STAGES["ingest"].run


def counted(context):
    with open(marker, "a") as handle:
        handle.write(me + "\\n")
    # stay in the computation until the other run arrives: waiting on the lock, or
    # (with nothing to serialise the two) computing as well
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        peer = Path(peer_log).read_text() if Path(peer_log).exists() else ""
        if "waiting for another run" in peer or len(Path(marker).read_text().split()) > 1:
            break
        time.sleep(0.02)
    compute(context)


STAGES["ingest"] = dataclasses.replace(STAGES["ingest"], run=counted)
outcome = run_stage(load_config(config_path), "ingest")
print("OUTCOME " + json.dumps({"cached": outcome.cached, "path": outcome.path}))
"""


def test_two_overlapping_runs_compute_a_stage_once_and_share_it(tiny_config: Path,
                                                                tmp_path: Path):
    marker = tmp_path / "computations"
    logs = [tmp_path / f"run{me}.log" for me in (0, 1)]
    runs = [start(OVERLAPPING_RUN, tiny_config, marker, me, logs[1 - me], log=logs[me])
            for me in (0, 1)]
    outputs = [finish(run, log) for run, log in zip(runs, logs, strict=True)]
    assert len(marker.read_text().split()) == 1, outputs
    assert [run.returncode for run in runs] == [0, 0], outputs
    outcomes = [json.loads(output.split("OUTCOME ", 1)[1]) for output in outputs]
    assert sorted(outcome["cached"] for outcome in outcomes) == [False, True]
    assert outcomes[0]["path"] == outcomes[1]["path"]
    config = load_config(tiny_config)
    lock = store_for(config).locks_dir("ingest") / f"{stage_fingerprints(config)['ingest']}.lock"
    waiter = outputs[[outcome["cached"] for outcome in outcomes].index(True)]
    assert f"waiting for another run, which holds the lock {lock}" in waiter
    assert {entry.stage: entry.state for entry in plan(config)}["ingest"] == "cached"


def test_a_truncated_table_is_corrupt_and_run_recomputes_it_keeping_the_copy(
        tiny_config: Path):
    config = load_config(tiny_config)
    first = run_stage(config, "ingest")
    table = Path(first.path) / "sequences.parquet"
    size = table.stat().st_size
    table.write_bytes(table.read_bytes()[: size // 2])
    status = {entry.stage: entry for entry in plan(config)}["ingest"]
    assert status.state == "corrupt" and not status.complete
    assert str(table) in status.problem
    again = run_stage(config, "ingest")
    assert not again.cached and again.path == first.path
    store = store_for(config)
    assert store.check("ingest", first.fingerprint).state == "cached"
    assert store.read_table("ingest", first.fingerprint, "sequences").height == 3
    aside = list((Path(first.path).parent / ".corrupt").iterdir())
    assert len(aside) == 1 and aside[0].name.startswith(f"{first.fingerprint}-")
    assert (aside[0] / "sequences.parquet").stat().st_size == size // 2


def test_a_truncated_manifest_is_corrupt_and_run_recomputes_it(tiny_config: Path):
    config = load_config(tiny_config)
    first = run_stage(config, "ingest")
    manifest = Path(first.path) / "manifest.json"
    manifest.write_text(manifest.read_text()[:50])
    status = {entry.stage: entry for entry in plan(config)}["ingest"]
    assert status.state == "corrupt" and str(manifest) in status.problem
    assert not run_stage(config, "ingest").cached
    assert store_for(config).manifest("ingest", first.fingerprint)["stage"] == "ingest"


def test_a_stage_reading_a_damaged_input_fails_in_one_line_naming_the_file(tiny_config: Path):
    config = load_config(tiny_config)
    ingest = run_stage(config, "ingest")
    table = Path(ingest.path) / "items.parquet"
    table.write_bytes(table.read_bytes()[:20])
    with pytest.raises(ArtifactCorrupt, match=rf"reads 'ingest' .*{table}: .*`sracl run`"):
        run_stage(config, "prompts")
    assert not store_for(config).is_complete("prompts", stage_fingerprints(config)["prompts"])


def test_an_artifact_from_before_checksums_is_reused_unverified(tiny_config: Path):
    config = load_config(tiny_config)
    first = run_stage(config, "ingest")
    manifest = Path(first.path) / "manifest.json"
    old = json.loads(manifest.read_text())
    del old["files"]
    manifest.write_text(json.dumps(old))
    assert {entry.stage: entry.state for entry in plan(config)}["ingest"] == "unverified"
    assert run_stage(config, "ingest").cached


def test_a_file_in_place_of_a_stage_folder_stops_the_run_naming_it(tiny_config: Path):
    config = load_config(tiny_config)
    stage_folder = config.cache_root / config.dataset / "ingest"
    stage_folder.parent.mkdir(parents=True)
    stage_folder.write_text("in the way")
    with pytest.raises(ArtifactCorrupt, match=f"{stage_folder} is a file where a folder"):
        run_stage(config, "ingest")
    assert stage_folder.read_text() == "in the way"
