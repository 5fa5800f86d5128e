"""Generate answers for many prompts through the response cache, retrying bad ones.

Only prompts without a cached valid answer reach the backend. Each batch is
written to the cache as soon as it returns, so a killed run loses at most one
batch. An answer that is empty or fails validation is recorded as ``invalid``
and re-queued; so is a backend failure. The first try of a prompt uses the
configured (greedy) sampling; retries sample at ``retry_temperature`` with the
attempt number as seed, because a greedy retry would repeat the same answer.
Prompts still without a valid answer after ``max_attempts`` tries in this run
come back with their last raw text (or none), for the caller's fallback.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sracl_core.errors import SraclError
from sracl_core.semantic.backends.base import ChatRequest, Generation, LLMBackend
from sracl_core.semantic.cache import OK, CachedResponse, ResponseCache

log = logging.getLogger(__name__)


class GenerationFailed(SraclError):
    """The backend could not answer some prompts at all (after every retry)."""


@dataclass
class GenerationReport:
    """What one call did: cache hits, generations, tokens, retries and leftovers."""

    prompts: int = 0
    cached: int = 0
    generated: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    retried: int = 0
    invalid_final: int = 0
    failed_final: int = 0
    errors: list[str] = field(default_factory=list)

    def as_stats(self, prefix: str) -> dict[str, float | int]:
        speed = self.completion_tokens / self.seconds if self.seconds else 0.0
        rate = self.generated / self.seconds if self.seconds else 0.0
        values = {
            "prompts": self.prompts, "cached": self.cached, "generated": self.generated,
            "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 2), "tokens_per_s": round(speed, 1),
            "prompts_per_s": round(rate, 3), "retried": self.retried,
            "invalid_final": self.invalid_final, "failed_final": self.failed_final,
        }
        return {f"{prefix}_{name}": value for name, value in values.items()}


@dataclass(frozen=True)
class Answer:
    """The text for one request: ``valid`` unless every attempt failed validation."""

    text: str | None
    valid: bool


def _retry(request: ChatRequest, attempt: int, temperature: float) -> ChatRequest:
    if attempt <= 1:
        return request
    return dataclasses.replace(request, temperature=temperature, seed=attempt)


Validator = Callable[[ChatRequest, str], bool]


def generate_cached(backend: LLMBackend, requests: list[ChatRequest], cache: ResponseCache,
                    validate: Validator, *, batch_size: int, max_attempts: int,
                    retry_temperature: float, label: str,
                    ) -> tuple[dict[str, Answer], GenerationReport]:
    """Answers by request key; the report says how they were obtained."""
    report = GenerationReport(prompts=len(requests))
    unique = list({request.key: request for request in requests}.values())
    answers: dict[str, Answer] = {}
    pending: list[ChatRequest] = []
    for request in unique:
        cached = cache.get(request.key)
        if cached is not None:
            answers[request.key] = Answer(cached, True)
        else:
            pending.append(request)
    report.cached = len(unique) - len(pending)
    log.info("%s: %d prompts, %d cached, %d to generate (cache: %s)", label, len(unique),
             report.cached, len(pending), cache.directory)
    last: dict[str, Generation] = {}
    for round_number in range(1, max_attempts + 1):
        if not pending:
            break
        if round_number > 1:
            report.retried += len(pending)
            log.info("%s: retrying %d prompts (try %d of %d)", label, len(pending), round_number,
                     max_attempts)
        still: list[ChatRequest] = []
        size = batch_size or len(pending)
        for start in range(0, len(pending), size):
            batch = pending[start:start + size]
            attempts = [cache.attempts(request.key) + 1 for request in batch]
            sent = [_retry(request, attempt, retry_temperature)
                    for request, attempt in zip(batch, attempts, strict=True)]
            began = time.perf_counter()
            generations = backend.generate(sent)
            report.seconds += time.perf_counter() - began
            records = []
            for request, attempt, generation in zip(batch, attempts, generations, strict=True):
                report.generated += generation.error is None
                report.prompt_tokens += generation.prompt_tokens or 0
                report.completion_tokens += generation.completion_tokens or 0
                last[request.key] = generation
                status = _status(request, generation, validate)
                records.append(CachedResponse(
                    request.key, status, generation.text, generation.error, attempt,
                    generation.prompt_tokens, generation.completion_tokens,
                    generation.finish_reason, backend.model))
                if status == OK:
                    answers[request.key] = Answer(generation.text, True)
                else:
                    still.append(request)
            cache.put(records)
            log.info("%s: %d/%d answered so far", label, len(answers), len(unique))
        pending = still
    for request in pending:
        generation = last[request.key]
        if generation.error is not None:
            report.failed_final += 1
            report.errors.append(generation.error)
        else:
            report.invalid_final += 1
        answers[request.key] = Answer(generation.text, False)
    if report.failed_final:
        raise GenerationFailed(
            f"{label}: the backend failed on {report.failed_final} prompts after "
            f"{max_attempts} tries (first error: {report.errors[0]}); the {len(cache)} answers "
            f"so far are cached in {cache.directory}, so a re-run only retries the rest")
    return answers, report


def _status(request: ChatRequest, generation: Generation,
            validate: Validator) -> str:
    if generation.error is not None:
        return "failed"
    if not generation.text or not generation.text.strip():
        return "empty"
    return OK if validate(request, generation.text) else "invalid"
