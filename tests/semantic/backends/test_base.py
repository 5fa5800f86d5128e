"""The lazy backend: no engine until a request needs one, and closed exactly once."""

from __future__ import annotations

from sracl_core.semantic.backends.base import ChatRequest, LazyBackend
from sracl_core.semantic.config import LLM_BACKENDS
from tests.semantic.fakes import ScriptedFakeProfilesConfig, use_scripted_fake


def _request(key: str) -> ChatRequest:
    return ChatRequest(key=key, system="s", prompt=f"Item information\n{key}", max_tokens=8,
                       temperature=0.0)


def test_the_engine_starts_on_the_first_request_and_is_closed_once() -> None:
    fake = use_scripted_fake()
    assert "scripted-fake" in LLM_BACKENDS.names()
    lazy = LazyBackend(ScriptedFakeProfilesConfig(model="m"))
    assert lazy.generate([]) == [] and not lazy.started  # a fully cached run loads nothing
    answers = lazy.generate([_request("a"), _request("b")])
    assert lazy.started and len(answers) == 2 and len(fake.calls) == 1
    lazy.close()
    lazy.close()
    assert not lazy.started
