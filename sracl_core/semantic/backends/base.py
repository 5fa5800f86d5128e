"""The one interface every LLM backend implements (``LLM_BACKENDS`` in the config picks one).

A backend turns chat requests into generations and reports failures per
request instead of raising, so one bad prompt never loses a batch. Engines are
imported only when their backend is created (``sracl status`` and the OpenAI
path never import vLLM).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sracl_core.semantic.config import LLMProfilesConfig


@dataclass(frozen=True)
class ChatRequest:
    """One conversation: a system prompt (shared, first, for prefix caching) and a user turn."""

    key: str
    system: str
    prompt: str
    max_tokens: int
    temperature: float
    json_schema: dict[str, Any] | None = None
    json_object: bool = False
    seed: int | None = None
    prefill: str | None = None
    """The start of the answer, continued by the model; the returned text includes it."""
    repetition_penalty: float = 1.0


@dataclass(frozen=True)
class Generation:
    """A backend's answer to one request; ``error`` is set when there is no answer."""

    text: str | None
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    calls: int = 1
    """HTTP calls (or engine tries) it took, so reports count retries honestly."""


AnswerSink = Callable[[int, Generation], None]
"""Told ``(index, generation)`` as each answer arrives, at most once per index."""


class LLMBackend(Protocol):
    """Generates answers for a list of requests, in order.

    A backend that answers one request at a time calls ``on_answer`` as each
    answer arrives, so the caller can cache it before the batch ends (a crash
    then loses only what is in flight); a whole-batch engine may ignore it.
    """

    model: str

    def generate(self, requests: list[ChatRequest],
                 on_answer: AnswerSink | None = None) -> list[Generation]: ...

    def close(self) -> None: ...


def create_backend(config: LLMProfilesConfig) -> LLMBackend:
    """The backend ``profiles.backend`` names (registered in ``LLM_BACKENDS``)."""
    from sracl_core.semantic.config import LLM_BACKENDS

    return LLM_BACKENDS.build(config)


class LazyBackend:
    """Creates the real backend on the first generation, so a fully cached run loads no model."""

    def __init__(self, config: LLMProfilesConfig) -> None:
        self.model = config.model
        self._config = config
        self._backend: LLMBackend | None = None

    @property
    def started(self) -> bool:
        return self._backend is not None

    def generate(self, requests: list[ChatRequest],
                 on_answer: AnswerSink | None = None) -> list[Generation]:
        if not requests:
            return []
        if self._backend is None:
            self._backend = create_backend(self._config)
        return self._backend.generate(requests, on_answer)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
