"""Generate answers for many prompts through the response cache, retrying bad ones.

Only prompts without a cached valid answer reach the backend. Each answer is
written to the cache as it arrives (in small flushes, see
:mod:`sracl_core.semantic.recording`), so a failing or killed run loses at
most the requests in flight. An answer that is empty or fails validation is
recorded as ``empty`` or ``invalid`` and re-queued; so is a backend failure
(``failed``). The first answer
to a prompt is asked for with the configured (greedy) sampling; later ones sample
at ``retry_temperature`` with the attempt number as seed, because a greedy retry
would repeat the same answer. A backend failure is no answer, so it does not
advance the attempt: after an outage a prompt is still asked greedily. Prompts
still without a valid answer after ``max_attempts`` tries in this run come back
with their last raw text (or none), for the caller's fallback. Reports count the
backend's own calls (HTTP retries included), so a message never says "1 try" for 5
requests.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sracl_core.errors import SraclError
from sracl_core.semantic.backends.base import ChatRequest, Generation, LLMBackend
from sracl_core.semantic.backends.breaker import EndpointDead
from sracl_core.semantic.cache import FAILED, OK, CachedResponse, ResponseCache
from sracl_core.semantic.recording import CacheRecorder

log = logging.getLogger(__name__)


class GenerationFailed(SraclError):
    """The backend could not answer some prompts at all (after every retry)."""


@dataclass
class GenerationReport:
    """What one call did: cache hits, generations, calls, tokens, retries and leftovers."""

    prompts: int = 0
    cached: int = 0
    generated: int = 0
    calls: int = 0
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
            "calls": self.calls, "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
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


class _Tally:
    """Answers, leftovers and counts of one :func:`generate_cached` call."""

    def __init__(self, report: GenerationReport, recorder: CacheRecorder, validate: Validator,
                 model: str) -> None:
        self.report = report
        self.recorder = recorder
        self.validate = validate
        self.model = model
        self.answers: dict[str, Answer] = {}
        self.last: dict[str, Generation] = {}
        self.calls: dict[str, int] = {}
        self.still: list[ChatRequest] = []

    def take(self, request: ChatRequest, attempt: int, generation: Generation) -> None:
        """Count, cache (buffered) and sort one answer: done, or to be retried."""
        report = self.report
        report.generated += generation.error is None
        report.calls += generation.calls
        report.prompt_tokens += generation.prompt_tokens or 0
        report.completion_tokens += generation.completion_tokens or 0
        self.last[request.key] = generation
        self.calls[request.key] = self.calls.get(request.key, 0) + generation.calls
        status = _status(request, generation, self.validate)
        self.recorder.add(CachedResponse(
            request.key, status, generation.text, generation.error, attempt,
            generation.prompt_tokens, generation.completion_tokens, generation.finish_reason,
            self.model))
        if status == OK:
            self.answers[request.key] = Answer(generation.text, True)
        else:
            self.still.append(request)

    def run_batch(self, backend: LLMBackend, batch: list[ChatRequest], attempts: list[int],
                  sent: list[ChatRequest]) -> None:
        """One backend call; answers are taken as they arrive and flushed even on failure."""
        seen: set[int] = set()

        def arrived(index: int, generation: Generation) -> None:
            if index not in seen:
                seen.add(index)
                self.take(batch[index], attempts[index], generation)

        began = time.perf_counter()
        try:
            for index, generation in enumerate(backend.generate(sent, arrived)):
                arrived(index, generation)
        finally:
            self.report.seconds += time.perf_counter() - began
            self.recorder.flush()


def generate_cached(backend: LLMBackend, requests: list[ChatRequest], cache: ResponseCache,
                    validate: Validator, *, batch_size: int, max_attempts: int,
                    retry_temperature: float, label: str,
                    ) -> tuple[dict[str, Answer], GenerationReport]:
    """Answers by request key; the report says how they were obtained."""
    report = GenerationReport(prompts=len(requests))
    tally = _Tally(report, CacheRecorder(cache), validate, backend.model)
    unique = list({request.key: request for request in requests}.values())
    pending: list[ChatRequest] = []
    for request in unique:
        cached = cache.get(request.key)
        if cached is not None:
            tally.answers[request.key] = Answer(cached, True)
        else:
            pending.append(request)
    report.cached = len(unique) - len(pending)
    log.info("%s: %d prompts, %d cached, %d to generate (cache: %s)", label, len(unique),
             report.cached, len(pending), cache.directory)
    for round_number in range(1, max_attempts + 1):
        if not pending:
            break
        if round_number > 1:
            report.retried += len(pending)
            log.info("%s: retrying %d prompts (try %d of %d)", label, len(pending), round_number,
                     max_attempts)
        tally.still = []
        size = batch_size or len(pending)
        for start in range(0, len(pending), size):
            batch = pending[start:start + size]
            attempts = [cache.attempts(request.key) + 1 for request in batch]
            sent = [_retry(request, attempt, retry_temperature)
                    for request, attempt in zip(batch, attempts, strict=True)]
            try:
                tally.run_batch(backend, batch, attempts, sent)
            except EndpointDead as dead:
                raise EndpointDead(f"{label}: {dead}; {_kept(cache)}") from None
            log.info("%s: %d/%d answered so far", label, len(tally.answers), len(unique))
        pending = tally.still
    return tally.answers, _finish(tally, pending, label, max_attempts, cache)


def _finish(tally: _Tally, pending: list[ChatRequest], label: str, max_attempts: int,
            cache: ResponseCache) -> GenerationReport:
    """Hand the unanswered prompts their last text; fail if the backend gave none."""
    report = tally.report
    failed_calls = 0
    for request in pending:
        generation = tally.last[request.key]
        if generation.error is not None:
            report.failed_final += 1
            report.errors.append(generation.error)
            failed_calls += tally.calls[request.key]
        else:
            report.invalid_final += 1
        tally.answers[request.key] = Answer(generation.text, False)
    if report.failed_final:
        tries = "1 try" if max_attempts == 1 else f"{max_attempts} tries"
        raise GenerationFailed(
            f"{label}: the backend failed on {report.failed_final} prompts after {tries} "
            f"each, {failed_calls} calls to it for them counting its own retries (first "
            f"error: {report.errors[0]}); {_kept(cache)}")
    return report


def _kept(cache: ResponseCache) -> str:
    return (f"the {len(cache)} answers so far are cached in {cache.directory}, so a re-run "
            "only asks for the rest")


def _status(request: ChatRequest, generation: Generation,
            validate: Validator) -> str:
    if generation.error is not None:
        return FAILED
    if not generation.text or not generation.text.strip():
        return "empty"
    return OK if validate(request, generation.text) else "invalid"
