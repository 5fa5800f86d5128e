"""The OpenAI-compatible backend against real HTTP servers on 127.0.0.1 (tests.servers)."""

from __future__ import annotations

import logging

import pytest

from sracl_core.semantic.backends.base import ChatRequest, create_backend
from sracl_core.semantic.config import OpenAIProfilesConfig
from sracl_core.semantic.templates import ITEM_JSON_SCHEMA
from tests.servers import MALFORMED, chat_server

pytestmark = pytest.mark.network_loopback


def _config(url: str, **openai: object) -> OpenAIProfilesConfig:
    options = {"base_url": url, "api_key_env": "SRACL_TEST_KEY", "backoff_s": 0.01, **openai}
    return OpenAIProfilesConfig(model="served-model", openai=options)


def _requests(n: int, **extra: object) -> list[ChatRequest]:
    return [ChatRequest(key=str(i), system="sys", prompt=f"p{i}", max_tokens=16,
                        temperature=0.0, **extra) for i in range(n)]


def test_answers_in_order_with_usage_key_from_env_and_bounded_concurrency(monkeypatch, caplog):
    monkeypatch.setenv("SRACL_TEST_KEY", "sk-very-secret")
    caplog.set_level(logging.DEBUG)
    with chat_server(lambda n: "ok", delay=0.2) as (server, url):
        backend = create_backend(_config(url, concurrency=3))
        generations = backend.generate(_requests(12, json_schema=ITEM_JSON_SCHEMA))
    assert [g.text for g in generations] == [f"echo p{i}" for i in range(12)]
    assert all(g.error is None and g.completion_tokens == 3 for g in generations)
    assert 1 < server.max_in_flight <= 3
    assert all(h["authorization"] == "Bearer sk-very-secret" for h in server.headers)
    first = server.requests[0]
    assert first["response_format"]["json_schema"]["schema"] == ITEM_JSON_SCHEMA
    assert first["temperature"] == 0.0 and first["max_tokens"] == 16
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert "sk-very-secret" not in caplog.text
    assert "sk-very-secret" not in _config(url).model_dump_json()


def test_server_errors_are_retried_until_it_succeeds(monkeypatch):
    monkeypatch.delenv("SRACL_TEST_KEY", raising=False)
    with chat_server(lambda n: "error" if n < 2 else "ok") as (server, url):
        generations = create_backend(_config(url, max_retries=3)).generate(_requests(1))
    assert generations[0].text == "echo p0" and generations[0].error is None
    assert len(server.requests) == 3


def test_a_server_that_times_out_gives_an_error_per_request_not_an_exception():
    with chat_server(lambda n: "hang") as (server, url):
        generations = create_backend(_config(url, timeout_s=0.3, max_retries=1)).generate(
            _requests(2))
    assert all(g.text is None and "Timeout" in g.error for g in generations)
    # counted by the client: a call that times out may not reach a loaded server in time
    assert [g.calls for g in generations] == [2, 2] and len(server.requests) <= 4


def test_client_errors_are_not_retried():
    with chat_server(lambda n: "bad") as (server, url):
        generations = create_backend(_config(url, max_retries=3)).generate(_requests(1))
    assert generations[0].error is not None and "400" in generations[0].error
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_answer_is_retried_like_a_server_error(kind):
    with chat_server(lambda n: kind if n == 0 else "ok") as (server, url):
        generations = create_backend(_config(url, max_retries=2)).generate(_requests(1))
    assert generations[0].text == "echo p0" and generations[0].error is None
    assert generations[0].calls == 2 and len(server.requests) == 2


def test_an_endpoint_that_only_answers_garbage_gives_errors_not_an_exception():
    with chat_server(lambda n: "choices-none") as (server, url):
        generations = create_backend(_config(url, max_retries=2)).generate(_requests(2))
    assert all(g.text is None and g.error.startswith("MalformedAnswer: no choices")
               for g in generations)
    assert [g.calls for g in generations] == [3, 3] and len(server.requests) == 6


def test_answers_are_handed_over_as_they_arrive():
    arrived: list[tuple[int, str | None]] = []
    with chat_server(lambda n: "ok") as (_, url):
        backend = create_backend(_config(url, concurrency=1))
        generations = backend.generate(_requests(3), lambda i, g: arrived.append((i, g.text)))
    assert arrived == [(i, f"echo p{i}") for i in range(3)]
    assert [g.text for g in generations] == [text for _, text in arrived]
