"""Fixtures shared across the suite: the real datasets beside the project, tiny configs."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def stop_ephemeral_prefect_server() -> Iterator[None]:
    """Send Prefect's last logs and events, then stop its temporary server, while pytest's
    output streams are still open (Prefect's own exit hooks would log to closed streams)."""
    yield
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer

    APILogWorker.drain_all(timeout=30)
    EventsWorker.drain_all(timeout=30)
    SubprocessASGIServer().stop()


@pytest.fixture(autouse=True)
def tracking_uri_left_as_found() -> Iterator[None]:
    """A test that leaves ``MLFLOW_TRACKING_URI`` changed sends every later test's runs
    into its store; fail the test that leaked it rather than the ones it broke."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    assert os.environ.get("MLFLOW_TRACKING_URI") == before, \
        "this test left MLFLOW_TRACKING_URI changed"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    if not (SHARED_DATASETS / "beauty" / "interactions.txt").is_file():
        pytest.skip(f"real datasets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS


def write_sasrec_dataset(folder: Path, sequences: dict[int, list[int]],
                         titles: dict[int, str] | None = None) -> tuple[Path, Path | None]:
    """Write ``user item`` lines (users in order, items in sequence order) and an items TSV."""
    folder.mkdir(parents=True, exist_ok=True)
    interactions = folder / "interactions.txt"
    interactions.write_text("".join(f"{user} {item}\n" for user, items in sequences.items()
                                    for item in items))
    items = None
    if titles is not None:
        items = folder / "items.tsv"
        items.write_text("item_id\ttitle\n" + "".join(f"{i}\t{t}\n" for i, t in titles.items()))
    return interactions, items


def write_config(path: Path, interactions: Path, items: Path | None, **sections: dict) -> Path:
    """A minimal pipeline config over a SASRec-format dataset, cache beside the config."""
    config = {
        "dataset": "tiny",
        "cache_root": str(path.parent / "cache"),
        "data": {"source": {"format": "sasrec", "interactions": str(interactions),
                            **({"items": str(items)} if items else {})},
                 "k_core": 1},
    }
    for name, section in sections.items():
        config.setdefault(name, {}).update(section)
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def make_config(tmp_path: Path):
    """A config over a hand-written dataset: ``make_config(sequences, titles, **sections)``."""

    def build(sequences: dict[int, list[int]], titles: dict[int, str] | None = None,
              **sections: dict) -> Path:
        interactions, items = write_sasrec_dataset(tmp_path / "data", sequences, titles)
        return write_config(tmp_path / "config.yaml", interactions, items, **sections)

    return build


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """Three users, five items, every title present."""
    sequences = {1: [1, 2, 3, 4], 2: [2, 3, 4, 5, 1], 3: [5, 4, 3]}
    titles = {i: f"Item number {i}" for i in range(1, 6)}
    interactions, items = write_sasrec_dataset(tmp_path / "data", sequences, titles)
    return write_config(tmp_path / "config.yaml", interactions, items)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """The embedded default's plain path (ingest, train, evaluate) run once per session:
    ``(config, {stage: StageOutcome})``, shared by the train, evaluate and serving tests."""
    from sracl_core.stages.graph import select_stages
    from tests.stage_runs import plain_config, run_pipeline

    config = plain_config(tmp_path_factory.mktemp("trained"))
    return config, {o.stage: o for o in run_pipeline(config, select_stages(config))}
