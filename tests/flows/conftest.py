"""One real Prefect run (ephemeral server) of the embedded default, shared by the flow tests.

Prefect reads its settings when first imported, so its home (a temporary
folder for the whole session), telemetry and start-up timeout are set here,
before any test module imports it. Tests reach the shared run and the helpers
through the ``harness`` fixture.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flows.environment import configure_prefect
from tests.servers import loopback_server

configure_prefect(Path(os.environ.get("PREFECT_HOME") or tempfile.mkdtemp(prefix="sracl-prefect-")))

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Harness:
    """The embedded default config, cut down, over one cache.

    Profiles come from the data's own text (the paper's 'w/o LLM'), so the flow tests
    exercise orchestration, caching and tracking rather than wait on generation; a real
    vLLM engine through the same stages is
    ``tests/stages/test_profiles.py::test_real_vllm_engine_runs_the_semantic_stages_end_to_end``
    and the README's ``make run``, which CI runs on a clean clone.
    """

    cache: Path
    config_path: Path = PROJECT_ROOT / "configs" / "default.yaml"
    fast: tuple[str, ...] = ("profiles.backend=text", "train.epochs=2")

    def overrides(self, *extra: str, cache: Path | None = None) -> list[str]:
        return [f"cache_root={cache or self.cache}", *self.fast, *extra]

    def run(self, *extra: str, cache: Path | None = None, **options: Any) -> dict[str, Any]:
        """The pipeline flow, in this process (the session's ephemeral Prefect server)."""
        from flows.pipeline import pipeline_flow

        return pipeline_flow(config_path=str(self.config_path),
                             overrides=self.overrides(*extra, cache=cache), **options)

    def run_stage(self, stage: str, *extra: str, cache: Path | None = None,
                  **options: Any) -> dict[str, Any]:
        from flows.pipeline import stage_flow

        return stage_flow(stage=stage, config_path=str(self.config_path),
                          overrides=self.overrides(*extra, cache=cache), **options)

    @staticmethod
    def eventually(read: Callable[[], Any], accept: Callable[[Any], bool], what: str,
                   attempts: int = 120) -> Any:
        """Prefect records task runs and artifacts through events; give them time to land."""
        value = read()
        for _ in range(attempts):
            if accept(value):
                return value
            time.sleep(0.5)
            value = read()
        raise AssertionError(f"{what}: last seen {value!r}")


@pytest.fixture(scope="session")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    return Harness(tmp_path_factory.mktemp("pipeline") / "cache")


@pytest.fixture(scope="session")
def first_run(harness: Harness) -> dict[str, Any]:
    """The whole embedded pipeline, run once through the Prefect flow on an empty cache."""
    return harness.run()


@pytest.fixture(scope="session")
def serve() -> Callable[..., AbstractContextManager[str]]:
    """:func:`loopback_server`, for test modules (conftest functions are not importable)."""
    return loopback_server
