"""vLLM replicas on a real local Ray cluster: two CPU engines of the embedded model.

Their greedy answers must equal one engine's; a replica process killed mid-batch
loses only its shard in flight, which the survivor answers; when every replica is
gone the batch fails with what arrived already in the response cache.
"""

from __future__ import annotations

import os
import signal

import pytest

from sracl_core.semantic.backends.base import ChatRequest
from sracl_core.semantic.cache import ResponseCache
from sracl_core.semantic.config import VllmProfilesConfig
from sracl_core.semantic.generation import generate_cached
from sracl_core.semantic.templates import USER_SYSTEM

pytest.importorskip("ray", reason="the distributed extra: pip install -e '.[distributed]'")
pytestmark = pytest.mark.slow

SYSTEM = USER_SYSTEM.format(domain="beauty products")
TITLES = ["Red lipstick; Lip liner", "Shampoo; Hair oil", "Nail polish; Top coat",
          "Eye shadow; Mascara", "Face cream; Serum", "Perfume; Body lotion"]
ENGINE = {"cpu_kv_cache_gib": 0.5, "max_model_len": 1024, "dtype": "float32"}
"""float32: in bfloat16 one engine's greedy answers already depend on which prompts share its
batch (the same engine, 2 prompts at once against 36: 2 of 4 answers equal), so only float32
makes "the same answers as one engine" a well-posed check; there all 36 matched."""
GENERATE = {"batch_size": 0, "max_attempts": 1, "retry_temperature": 0.7, "label": "ray test"}


def _requests(tag: str) -> list[ChatRequest]:
    return [ChatRequest(key=f"{tag}{i}", system=SYSTEM, temperature=0.0, max_tokens=16,
                        prompt=f"Purchased items: {titles}; set {tag}")
            for i, titles in enumerate(TITLES * 2)]


@pytest.fixture(scope="module")
def single():
    from sracl_core.semantic.backends.vllm_backend import VllmBackend

    backend = VllmBackend(VllmProfilesConfig(vllm=ENGINE))
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def replicas():
    from sracl_core.semantic.backends.ray_vllm import open_vllm

    backend = open_vllm(VllmProfilesConfig(vllm={**ENGINE, "replicas": 2, "ray": {
        "shard_size": 2, "restarts": 0, "shard_retries": 1}}))
    yield backend
    backend.close()


def _texts(generations) -> list[str]:
    assert all(g.error is None for g in generations), [g.error for g in generations]
    return [g.text for g in generations]


def test_two_replicas_answer_as_one_engine_does(single, replicas) -> None:
    assert len(replicas.replicas) == 2 and len(set(replicas.pids)) == 2
    assert os.getpid() not in replicas.pids
    requests = _requests("a")
    arrived: dict[int, str] = {}
    answers = replicas.generate(requests, lambda i, g: arrived.setdefault(i, g.text))
    assert _texts(answers) == _texts(single.generate(requests))
    assert sorted(arrived) == list(range(len(requests)))
    assert [arrived[i] for i in range(len(requests))] == _texts(answers)


def test_a_killed_replica_loses_only_its_shard_which_the_other_answers(single, replicas,
                                                                       caplog) -> None:
    requests = _requests("b")
    victim = replicas.pids[1]

    def kill_once(index: int, generation) -> None:
        if victim in replicas.pids:
            replicas.pids.remove(victim)
            os.kill(victim, signal.SIGKILL)

    answers = replicas.generate(requests, kill_once)
    assert _texts(answers) == _texts(single.generate(requests))
    assert len(replicas.replicas) == 1
    assert "replica crashed" in caplog.text and "1 replicas carry on" in caplog.text


def test_with_every_replica_gone_the_answers_so_far_stay_cached(single, replicas,
                                                                tmp_path) -> None:
    from sracl_core.semantic.backends.ray_vllm import ReplicasLost

    requests = _requests("c")
    last = replicas.pids[0]

    class KillAfterFirstShard:
        model = replicas.model

        def generate(self, batch, on_answer):
            def relay(index, generation):
                on_answer(index, generation)
                if last in replicas.pids:
                    replicas.pids.remove(last)
                    os.kill(last, signal.SIGKILL)
            return replicas.generate(batch, relay)

    with pytest.raises(ReplicasLost, match=r"every vLLM replica .* died; 10 prompts"):
        generate_cached(KillAfterFirstShard(), requests, ResponseCache(tmp_path),
                        lambda r, t: True, **GENERATE)
    assert len(ResponseCache(tmp_path)) == 2
    answers, report = generate_cached(single, requests, ResponseCache(tmp_path),
                                      lambda r, t: True, **GENERATE)
    assert (report.cached, report.generated) == (2, 10)
    assert [answers[r.key].text for r in requests] == _texts(single.generate(requests))
