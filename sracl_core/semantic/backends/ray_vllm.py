"""vLLM engines as Ray actors: a batch of prompts sharded across replicas, here or on a cluster.

Chosen by ``profiles.vllm.replicas`` > 1 (or ``profiles.vllm.ray.address``). Each
replica is a Ray actor holding one :class:`VllmBackend`; the driver cuts a batch
into shards of ``ray.shard_size`` prompts, keeps every replica busy with one shard,
and hands each shard's answers to ``on_answer`` as it returns, so the response cache
has them before the batch ends.

A replica that crashes (its process killed, out of memory) loses only the shard in
flight: that shard is sent again, to whichever replica is free, with the same greedy
sampling (a crash is not the model's answer, so it is not retried at the retry
temperature). Ray restarts the replica ``ray.restarts`` times, reloading its engine;
after that the others carry on without it, and when none is left the batch fails
with everything answered so far already cached.

Greedy answers equal one engine's when the engines compute in the same dtype: a
sequence's tokens do not depend on which other sequences share its batch, up to
floating-point summation order (``tests/semantic/backends/test_ray_vllm.py``
compares them). Engine output goes to Ray's log files, named at start-up.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from sracl_core.errors import SraclError
from sracl_core.semantic import models
from sracl_core.semantic.backends.base import AnswerSink, ChatRequest, Generation, LLMBackend
from sracl_core.semantic.redact import error_text

if TYPE_CHECKING:
    from sracl_core.semantic.config import VllmProfilesConfig

log = logging.getLogger(__name__)


class ReplicasLost(SraclError):
    """Every Ray replica died for good; the answers that arrived before are cached."""


class _Replica:
    """One vLLM engine in a Ray worker process (made a Ray actor class at start-up)."""

    def __init__(self, config: VllmProfilesConfig) -> None:
        from sracl_core.semantic.backends.vllm_backend import VllmBackend

        self._engine = VllmBackend(config)

    def pid(self) -> int:
        return os.getpid()

    def generate(self, requests: list[ChatRequest]) -> list[Generation]:
        return self._engine.generate(requests)


@dataclass
class _Shard:
    start: int
    requests: list[ChatRequest]
    sent: int = 0


@dataclass
class _Pool:
    """Replicas with their crash counts; a replica is dropped past its restarts."""

    replicas: list[Any]
    restarts: int
    crashes: dict[int, int] = field(default_factory=dict)

    def crashed(self, replica: Any) -> bool:
        """Count a crash; True while Ray will bring the replica back."""
        key = id(replica)
        self.crashes[key] = self.crashes.get(key, 0) + 1
        if self.crashes[key] <= self.restarts:
            return True
        self.replicas.remove(replica)
        return False


def _resources(config: VllmProfilesConfig) -> tuple[float, float]:
    import torch

    options = config.vllm.ray
    gpus = options.gpus_per_replica
    if gpus is None:
        gpus = float(config.vllm.tensor_parallel_size) if torch.cuda.is_available() else 0.0
    return options.cpus_per_replica, gpus


def _replica_environment(config: VllmProfilesConfig, gpus: float) -> dict[str, str]:
    """What each engine's process needs: offline hub for embedded models and, on CPU, OpenMP
    threads left to the replica's reserved cores instead of vLLM binding every engine to
    the same ones."""
    env = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0"}
    if models.is_embedded(config.model):
        env["HF_HUB_OFFLINE"] = "1"
    if not gpus:
        env["VLLM_CPU_OMP_THREADS_BIND"] = "nobind"
        env["OMP_NUM_THREADS"] = str(max(1, int(config.vllm.ray.cpus_per_replica)))
    return env


class RayVllmBackend:
    """``replicas`` engines on Ray; :meth:`close` stops them (and a Ray started here)."""

    pids: list[int]
    """The replicas' worker processes as started (a restarted replica gets a new one)."""

    def __init__(self, config: VllmProfilesConfig) -> None:
        import ray

        options = config.vllm.ray
        self.model = config.model
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            context = ray.init(address=options.address, include_dashboard=False,
                               log_to_driver=False, logging_level=logging.ERROR)
            where = options.address or "a local cluster started here"
            log.info("ray: %s; engine logs in %s/logs", where,
                     context.address_info.get("session_dir", "Ray's session folder"))
        cpus, gpus = _resources(config)
        single = config.model_copy(update={"vllm": config.vllm.model_copy(update={"replicas": 1})})
        actor = ray.remote(_Replica).options(
            num_cpus=cpus, num_gpus=gpus, max_restarts=options.restarts, max_task_retries=0,
            runtime_env={"env_vars": _replica_environment(config, gpus)})
        replicas = [actor.remote(single) for _ in range(config.vllm.replicas)]
        log.info("ray: starting %d vLLM replicas of %s (%g CPUs, %g GPUs each)",
                 len(replicas), config.model, cpus, gpus)
        try:
            self.pids = ray.get([replica.pid.remote() for replica in replicas])
        except ray.exceptions.RayError as error:
            for replica in replicas:
                ray.kill(replica)
            self._shutdown()
            raise SraclError(f"ray: a vLLM replica of {config.model} failed to start: "
                             f"{error_text(error)}") from None
        self._pool = _Pool(replicas, options.restarts)
        self._shard_size = options.shard_size
        self._shard_retries = options.shard_retries

    @property
    def replicas(self) -> list[Any]:
        """The live replicas (actor handles), in start order."""
        return list(self._pool.replicas)

    def generate(self, requests: list[ChatRequest],
                 on_answer: AnswerSink | None = None) -> list[Generation]:
        """Answers in request order; ``on_answer`` hears each shard's as it returns."""
        import ray

        results: list[Generation | None] = [None] * len(requests)
        queue = deque(_Shard(start, requests[start:start + self._shard_size])
                      for start in range(0, len(requests), self._shard_size))
        running: dict[Any, tuple[Any, _Shard]] = {}
        idle = list(self._pool.replicas)
        progress = tqdm(total=len(requests), desc=f"{self.model} on {len(idle)} Ray replicas",
                        unit=" prompts", disable=len(requests) < 2)
        try:
            while queue or running:
                while queue and idle:
                    replica, shard = idle.pop(0), queue.popleft()
                    shard.sent += 1
                    running[replica.generate.remote(shard.requests)] = (replica, shard)
                if not running:
                    raise ReplicasLost(
                        f"ray: every vLLM replica of {self.model} died; "
                        f"{sum(r is None for r in results)} prompts of this batch unanswered")
                [ready], _ = ray.wait(list(running), num_returns=1)
                replica, shard = running.pop(ready)
                answers = self._collect(ready, replica, shard, queue, idle)
                for offset, answer in enumerate(answers):
                    results[shard.start + offset] = answer
                    if on_answer is not None:
                        on_answer(shard.start + offset, answer)
                progress.update(len(answers))
        finally:
            progress.close()
        return [result for result in results if result is not None]

    def _collect(self, ready: Any, replica: Any, shard: _Shard, queue: deque[_Shard],
                 idle: list[Any]) -> list[Generation]:
        """A shard's answers; after a crash, none now and the shard queued again."""
        import ray

        try:
            answers = ray.get(ready)
        except ray.exceptions.RayActorError as error:
            back = self._pool.crashed(replica)
            if back:
                idle.append(replica)
            log.warning("ray: a vLLM replica crashed with %d prompts in flight (%s); %s",
                        len(shard.requests), error_text(error),
                        "Ray restarts it" if back else
                        f"{len(self._pool.replicas)} replicas carry on without it")
            if shard.sent <= self._shard_retries:
                queue.appendleft(shard)
                return []
            return [Generation(None, error=f"replica crashed: {error_text(error)}")
                    for _ in shard.requests]
        except ray.exceptions.RayTaskError as error:
            idle.append(replica)
            return [Generation(None, error=error_text(error)) for _ in shard.requests]
        idle.append(replica)
        return answers

    def close(self) -> None:
        """Stop the replicas (freeing their engines) and a Ray this backend started."""
        import ray

        for replica in getattr(self, "_pool", _Pool([], 0)).replicas:
            ray.kill(replica)
        self._pool = _Pool([], 0)
        self._shutdown()

    def _shutdown(self) -> None:
        import ray

        if self._owns_ray and ray.is_initialized():
            ray.shutdown()


def open_vllm(config: VllmProfilesConfig) -> LLMBackend:
    """The ``vllm`` backend: one engine in this process, or ``profiles.vllm.replicas``
    engines as Ray actors (here, so the single engine's module needs nothing of Ray's)."""
    if config.vllm.on_ray:
        return RayVllmBackend(config)
    from sracl_core.semantic.backends.vllm_backend import VllmBackend

    return VllmBackend(config)
