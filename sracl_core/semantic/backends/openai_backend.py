"""Any OpenAI-compatible chat endpoint: a served vLLM, DeepSeek (as in the paper), ...

Requests run concurrently (at most ``concurrency`` in flight), each with a
timeout, and are retried with exponential backoff on connection errors,
timeouts, rate limits and server errors; other client errors are final. A
request that still fails comes back as a :class:`Generation` with its error,
so the rest of the batch is kept. The API key is read from the environment
variable named in the config and is never logged or stored; a local server
needs none (a placeholder is sent). An answer prefill is sent as a final
assistant message with vLLM's ``continue_final_message`` (a vLLM server
extension; other servers may ignore or reject it, so ``prefill: auto`` keeps
it off for this backend); so is a repetition penalty other than 1.0.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from sracl_core.semantic import models
from sracl_core.semantic.backends.base import ChatRequest, Generation

if TYPE_CHECKING:
    from sracl_core.semantic.config import ProfilesConfig

log = logging.getLogger(__name__)

_NO_KEY = "EMPTY"


class OpenAIBackend:
    def __init__(self, config: ProfilesConfig) -> None:
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
        self._key = key or _NO_KEY

    def generate(self, requests: list[ChatRequest]) -> list[Generation]:
        if not requests:
            return []
        return asyncio.run(self._generate_all(requests))

    async def _generate_all(self, requests: list[ChatRequest]) -> list[Generation]:
        import openai

        options = self._options
        client = openai.AsyncOpenAI(base_url=options.base_url, api_key=self._key,
                                    timeout=options.timeout_s, max_retries=0)
        limit = asyncio.Semaphore(options.concurrency)
        progress = tqdm(total=len(requests), desc=f"{self.model} via {options.base_url}",
                        disable=len(requests) < 8)

        async def one(request: ChatRequest) -> Generation:
            async with limit:
                result = await self._with_retries(client, request)
            progress.update()
            return result

        try:
            return list(await asyncio.gather(*(one(request) for request in requests)))
        finally:
            progress.close()
            await client.close()

    async def _with_retries(self, client: Any, request: ChatRequest) -> Generation:
        import openai

        retryable = (openai.APIConnectionError, openai.APITimeoutError, openai.RateLimitError,
                     openai.InternalServerError)
        delay = self._options.backoff_s
        for attempt in range(self._options.max_retries + 1):
            try:
                return await self._call(client, request)
            except retryable as error:
                if attempt == self._options.max_retries:
                    return Generation(None, error=f"{type(error).__name__}: {error}")
                log.debug("openai: %s, retrying in %.1f s", type(error).__name__, delay)
                await asyncio.sleep(delay)
                delay *= 2
            except openai.APIError as error:
                return Generation(None, error=f"{type(error).__name__}: {error}")
        raise AssertionError("unreachable")

    async def _call(self, client: Any, request: ChatRequest) -> Generation:
        messages = [{"role": "system", "content": request.system},
                    {"role": "user", "content": request.prompt}]
        if request.prefill is not None:
            messages.append({"role": "assistant", "content": request.prefill})
        arguments: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
        if request.seed is not None:
            arguments["seed"] = request.seed
        if request.json_schema is not None:
            arguments["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "item_profile", "schema": request.json_schema},
            }
        elif request.json_object:
            arguments["response_format"] = {"type": "json_object"}
        extra: dict[str, Any] = {}
        if request.prefill is not None:
            extra.update(continue_final_message=True, add_generation_prompt=False)
        if request.repetition_penalty != 1.0:
            extra["repetition_penalty"] = request.repetition_penalty
        if extra:
            arguments["extra_body"] = extra
        response = await client.chat.completions.create(**arguments)
        choice = response.choices[0]
        usage = response.usage
        return Generation(
            text=(request.prefill or "") + (choice.message.content or ""),
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            finish_reason=choice.finish_reason,
        )

    def close(self) -> None:
        """Nothing to free: each generate call opens and closes its own client."""
