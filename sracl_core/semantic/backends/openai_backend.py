"""Any OpenAI-compatible chat endpoint: a served vLLM, DeepSeek (as in the paper), ...

Requests run concurrently (at most ``concurrency`` in flight), each with a
timeout (and a shorter one to connect), and are retried with exponential
backoff on connection errors, timeouts, rate limits, server errors and
malformed answers (a body that is not a chat completion with text, see
:mod:`.completion`); other client errors are final. A rate limit's
``Retry-After`` is honoured when it asks for longer than the backoff; a 429
that says ``insufficient_quota`` is final (and counts toward the breaker), since
no wait cures an empty account. An empty answer is returned as an answer (the
generation layer re-asks it warmer) but counts toward the breaker like a failure,
so an endpoint that only ever says nothing stops the stage. A request that still
fails comes back as a :class:`Generation` with its error, so the rest of the
batch is kept, and each answer is handed to ``on_answer`` as it arrives, so
the caller can cache it before the batch ends.

Before its first batch the backend lists the endpoint's models with a short
timeout (``connect_timeout_s``): a server that accepts connections but never
answers would otherwise cost a full ``timeout_s`` per request before the breaker
could see it. Any HTTP answer, even an error status, proves the server alive.

A :class:`~.breaker.CircuitBreaker` stops the whole call with
:class:`~.breaker.EndpointDead` once ``breaker_failures`` calls in a row have
failed (rate limits aside), instead of retrying every prompt against a dead
endpoint. Every error string is redacted (:mod:`sracl_core.semantic.redact`).

The API key is read from the environment variable named in the config and is
never logged or stored; a local server needs none (a placeholder is sent). An
answer prefill is sent as a final assistant message with vLLM's
``continue_final_message`` (a vLLM server extension; other servers may ignore
or reject it, so ``prefill: auto`` keeps it off for this backend); so is a
repetition penalty other than 1.0.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import os
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from sracl_core.semantic import models
from sracl_core.semantic.backends import completion
from sracl_core.semantic.backends.base import AnswerSink, ChatRequest, Generation
from sracl_core.semantic.backends.breaker import CircuitBreaker, EndpointDead
from sracl_core.semantic.redact import error_text, register_secret

if TYPE_CHECKING:
    from sracl_core.semantic.config import OpenAIProfilesConfig

log = logging.getLogger(__name__)

_NO_KEY = "EMPTY"


class OpenAIBackend:
    def __init__(self, config: OpenAIProfilesConfig) -> None:
        if models.is_embedded(config.model):
            raise ValueError(
                f"profiles.model {config.model!r} is an embedded model, which only the vllm "
                "backend loads; name the model the server serves")
        self.model = config.model
        self._options = config.openai
        key = os.environ.get(self._options.api_key_env)
        if not key:
            log.info("openai: %s is not set; sending no API key (fine for a local server)",
                     self._options.api_key_env)
        register_secret(key)
        self._key = key or _NO_KEY
        self._breaker = CircuitBreaker(self._options.breaker_failures)
        self.calls = 0
        """HTTP calls made so far, retries included."""
        self.answered = 0
        self._alive = False

    def generate(self, requests: list[ChatRequest],
                 on_answer: AnswerSink | None = None) -> list[Generation]:
        if not requests:
            return []
        return asyncio.run(self._generate_all(requests, on_answer))

    async def _generate_all(self, requests: list[ChatRequest],
                            on_answer: AnswerSink | None) -> list[Generation]:
        import httpx
        import openai

        options = self._options
        timeout = httpx.Timeout(options.timeout_s, connect=min(options.connect_timeout_s,
                                                              options.timeout_s))
        client = openai.AsyncOpenAI(base_url=options.base_url, api_key=self._key,
                                    timeout=timeout, max_retries=0)
        try:
            await self._check_alive(client)
        except BaseException:
            await client.close()
            raise
        limit = asyncio.Semaphore(options.concurrency)
        progress = tqdm(total=len(requests), desc=f"{self.model} via {options.base_url}",
                        disable=len(requests) < 8)
        by_index: dict[int, Generation] = {}

        async def one(index: int, request: ChatRequest) -> None:
            async with limit:
                result = await self._with_retries(client, request)
            by_index[index] = result
            if on_answer is not None:
                on_answer(index, result)
            progress.update()

        try:
            async with asyncio.TaskGroup() as group:
                for index, request in enumerate(requests):
                    group.create_task(one(index, request))
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None  # EndpointDead (or on_answer's error), unwrapped
        finally:
            progress.close()
            await client.close()
        return [by_index[index] for index in range(len(requests))]

    async def _with_retries(self, client: Any, request: ChatRequest) -> Generation:
        """One request's answer or final error; raises :class:`EndpointDead` on a trip."""
        import openai

        retryable = (openai.APIConnectionError, openai.RateLimitError,
                     openai.InternalServerError, completion.MalformedAnswer)
        delay = self._options.backoff_s
        for attempt in range(1, self._options.max_retries + 2):
            self._stop_if_dead()
            self.calls += 1
            try:
                generation = await self._call(client, request)
            except retryable as error:
                message = error_text(error)
                if _out_of_quota(error):  # a 429 that waiting will not cure: final, and counted
                    message = f"out of quota: {message}"
                    self._breaker.failure(message)
                    self._stop_if_dead()
                    return Generation(None, error=message, calls=attempt)
                if not isinstance(error, openai.RateLimitError):
                    self._breaker.failure(message)
                    self._stop_if_dead()
                if attempt > self._options.max_retries:
                    return Generation(None, error=message, calls=attempt)
                wait = max(delay, retry_after_seconds(error) or 0.0)
                log.debug("openai: %s; retrying in %.1f s", message, wait)
                await asyncio.sleep(wait)
                delay *= 2
            except Exception as error:  # a client error or an SDK surprise: final, kept per prompt
                message = _with_extension_hint(error_text(error))
                self._breaker.failure(message)
                self._stop_if_dead()
                return Generation(None, error=message, calls=attempt)
            else:
                if _said_nothing(generation, request):
                    # an answer, but no sign of health: an endpoint that only ever says
                    # nothing must stop the stage, not fill it with fallback profiles
                    self._breaker.failure("an empty answer")
                    self._stop_if_dead()
                else:
                    self._breaker.success()
                self.answered += 1
                return dataclasses.replace(generation, calls=attempt)
        raise AssertionError("unreachable")

    async def _check_alive(self, client: Any) -> None:
        """Fail in seconds, naming the URL, when the endpoint does not answer at all."""
        import openai

        if self._alive:
            return
        wait = self._options.connect_timeout_s
        self.calls += 1
        try:
            await client.with_options(timeout=wait).models.list()
        except openai.APIConnectionError as error:  # refused, reset or timed out
            raise EndpointDead(
                f"openai endpoint {self._options.base_url} did not answer a model listing "
                f"within {wait:g} s ({error_text(error)}); is the server up? "
                "(profiles.openai.base_url, profiles.openai.connect_timeout_s)") from None
        except openai.APIStatusError:
            pass  # it answered, if only with an error status: alive
        self._alive = True

    def _stop_if_dead(self) -> None:
        breaker = self._breaker
        if breaker.tripped:
            raise EndpointDead(
                f"openai endpoint {self._options.base_url} failed {breaker.consecutive} calls "
                f"in a row (last: {breaker.last_error}); stopped after {self.calls} HTTP calls "
                f"in all, {self.answered} answered (profiles.openai.breaker_failures)")

    async def _call(self, client: Any, request: ChatRequest) -> Generation:
        arguments = completion.arguments(self.model, request)
        raw = await client.chat.completions.with_raw_response.create(**arguments)
        return completion.parse(raw.http_response.content, request.prefill)

    def close(self) -> None:
        """Nothing to free: each generate call opens and closes its own client."""


MAX_RETRY_AFTER_S = 300.0
"""The longest wait a server's ``Retry-After`` can impose on one retry."""


def retry_after_seconds(error: BaseException) -> float | None:
    """The wait an error response asks for (``retry-after-ms``, ``retry-after`` in seconds
    or as an HTTP date), capped at :data:`MAX_RETRY_AFTER_S`; None when it asks none."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    seconds: float | None = None
    if (millis := headers.get("retry-after-ms")) is not None:
        seconds = _number(millis, scale=1e-3)
    if seconds is None and (value := headers.get("retry-after")) is not None:
        seconds = _number(value)
        if seconds is None:
            try:
                seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError):
                return None
    return None if seconds is None else min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _number(text: str, scale: float = 1.0) -> float | None:
    """A header's number of seconds, or None for anything that is not a finite number."""
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return value if math.isfinite(value) else None


VLLM_EXTENSIONS = {
    "repetition_penalty": "set profiles.repetition_penalty=1.0, which sends none",
    "continue_final_message": "set profiles.prefill=off",
    "add_generation_prompt": "set profiles.prefill=off",
}
"""Request fields only vLLM-like servers take, and how to stop sending each."""


def _with_extension_hint(message: str) -> str:
    """A server that refuses a vLLM extension (OpenAI's own API does) says so in words
    naming the field; the message then says which setting sent it."""
    for field, fix in VLLM_EXTENSIONS.items():
        if field in message:
            return f"{message} ({field} is a vLLM extension this server refuses: {fix})"
    return message


def _said_nothing(generation: Generation, request: ChatRequest) -> bool:
    text = generation.text or ""
    return not text.removeprefix(request.prefill or "").strip()


def _out_of_quota(error: BaseException) -> bool:
    """OpenAI's ``insufficient_quota``: a 429 that no retry cures (billing, not load)."""
    return "insufficient_quota" in (getattr(error, "code", None), getattr(error, "type", None))
