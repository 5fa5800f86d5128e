"""The OpenAI chat-completions wire format: the request body out, a checked answer back.

The answer is parsed here from the raw body instead of trusting the SDK's
model, because the SDK builds its objects without validation: a proxy's HTML
page, ``"choices": null`` or a number as content used to surface as
``JSONDecodeError`` or ``TypeError`` deep in the batch and lose every answer
in flight. Anything that is not a usable answer raises :class:`MalformedAnswer`,
which the backend retries like a server error. An empty text is an answer, not a
fault: the model had nothing to say, so, as with the vLLM backend, the generation
layer records it as empty and asks again at the retry temperature (a greedy
re-ask of a working endpoint would say nothing again, and counting it as an
endpoint failure stopped the stage for good).
"""

from __future__ import annotations

import json
from typing import Any

from sracl_core.semantic.backends.base import ChatRequest, Generation

_EXCERPT_CHARS = 120


class MalformedAnswer(ValueError):
    """A 2xx response that is not a chat completion with text."""


def arguments(model: str, request: ChatRequest) -> dict[str, Any]:
    """The keyword arguments of ``chat.completions.create`` for one request."""
    messages = [{"role": "system", "content": request.system},
                {"role": "user", "content": request.prompt}]
    if request.prefill is not None:
        messages.append({"role": "assistant", "content": request.prefill})
    values: dict[str, Any] = {"model": model, "messages": messages,
                              "temperature": request.temperature,
                              "max_tokens": request.max_tokens}
    if request.seed is not None:
        values["seed"] = request.seed
    if request.json_schema is not None:
        values["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "item_profile", "schema": request.json_schema},
        }
    elif request.json_object:
        values["response_format"] = {"type": "json_object"}
    extra: dict[str, Any] = {}
    if request.prefill is not None:
        extra.update(continue_final_message=True, add_generation_prompt=False)
    if request.repetition_penalty != 1.0:
        extra["repetition_penalty"] = request.repetition_penalty
    if extra:
        values["extra_body"] = extra
    return values


def parse(body: bytes, prefill: str | None) -> Generation:
    """The generation in a response body; :class:`MalformedAnswer` if there is none."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedAnswer(f"not JSON: {_excerpt(body)}") from None
    choices = payload.get("choices") if isinstance(payload, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedAnswer(f"no choices: {_excerpt(body)}")
    choice = choices[0]
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise MalformedAnswer(f"no text in choices[0].message.content: {_excerpt(body)}")
    usage = payload.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    reason = choice.get("finish_reason")
    return Generation(
        text=(prefill or "") + content,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        finish_reason=reason if isinstance(reason, str) else None,
    )


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _excerpt(body: bytes) -> str:
    text = body[:_EXCERPT_CHARS].decode("utf-8", "replace")
    return repr(text + ("..." if len(body) > _EXCERPT_CHARS else ""))
