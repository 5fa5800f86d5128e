"""A scripted LLM backend for tests that need an engine to die or misbehave on cue.

A real engine cannot be made to crash after a given batch or to answer
garbage for one prompt deterministically, so the tests of resume, retries and
fallbacks use this fake (and say so in their names); the real vLLM engine is
exercised in the slow tests.
"""

from __future__ import annotations

from typing import Literal

from sracl_core.semantic.backends.base import AnswerSink, ChatRequest, Generation
from sracl_core.semantic.config import LLM_BACKENDS, LLMProfilesConfig

GOOD_ITEM = '{"item summary": "A useful product.", "potential user analysis": "Anyone."}'


class Interrupted(Exception):
    """Stands in for a kill in the middle of the stage."""


class ScriptedFakeProfilesConfig(LLMProfilesConfig):
    """The LLM settings of every backend, for a backend with no engine of its own."""

    backend: Literal["scripted-fake"] = "scripted-fake"


class ScriptedFakeBackend:
    """Answers every prompt; can die after N batches or answer some prompts badly."""

    calls: list[list[ChatRequest]] = []
    die_after_batches: int | None = None
    bad_prompts: set[str] = set()
    failing_prompts: set[str] = set()

    def __init__(self, config) -> None:
        self.model = config.model

    def generate(self, requests: list[ChatRequest],
                 on_answer: AnswerSink | None = None) -> list[Generation]:
        """The whole batch at once, like the vLLM engine (``on_answer`` unused)."""
        cls = type(self)
        if cls.die_after_batches is not None and len(cls.calls) >= cls.die_after_batches:
            raise Interrupted
        cls.calls.append(requests)
        answers = []
        for request in requests:
            marker = request.prompt.splitlines()[-1]
            if any(bad in request.prompt for bad in cls.failing_prompts):
                answers.append(Generation(None, error="engine exploded"))
            elif any(bad in request.prompt for bad in cls.bad_prompts):
                answers.append(Generation("no json here, sorry", completion_tokens=5))
            elif "Item information" in request.prompt:
                answers.append(Generation(GOOD_ITEM, completion_tokens=9))
            else:
                answers.append(Generation(f"Likes {marker}", completion_tokens=4))
        return answers

    def close(self) -> None:
        pass


def use_scripted_fake() -> type[ScriptedFakeBackend]:
    """The fake, registered as backend ``scripted-fake`` (once), with a clean script."""
    if "scripted-fake" not in LLM_BACKENDS.names():
        LLM_BACKENDS.add("scripted-fake", ScriptedFakeProfilesConfig, ScriptedFakeBackend)
    ScriptedFakeBackend.calls = []
    ScriptedFakeBackend.die_after_batches = None
    ScriptedFakeBackend.bad_prompts = set()
    ScriptedFakeBackend.failing_prompts = set()
    return ScriptedFakeBackend
