"""Hostile endpoints: dead, hanging, garbage mid-batch, or echoing the API key.

Real HTTP servers on 127.0.0.1 (:mod:`tests.servers`) and the real response
cache in a temporary folder; the bounds are on requests counted server-side
(or by the backend, for a closed port), never on wall time.
"""

from __future__ import annotations

import logging

import polars as pl
import pytest

from sracl_core.semantic.backends.base import ChatRequest, create_backend
from sracl_core.semantic.backends.breaker import EndpointDead
from sracl_core.semantic.cache import ResponseCache
from sracl_core.semantic.config import OpenAIProfilesConfig
from sracl_core.semantic.generation import GenerationFailed, generate_cached
from tests.servers import chat_server, closed_port_url

pytestmark = pytest.mark.network_loopback

CANARY = "sk-canary-3f9a1c7e"


def _config(url: str, **openai: object) -> OpenAIProfilesConfig:
    options = {"base_url": url, "api_key_env": "SRACL_TEST_KEY", "backoff_s": 0.01, **openai}
    return OpenAIProfilesConfig(model="served-model", openai=options)


def _requests(n: int) -> list[ChatRequest]:
    return [ChatRequest(key=f"k{i}", system="sys", prompt=f"p{i}", max_tokens=16,
                        temperature=0.0) for i in range(n)]


def _generate(config: OpenAIProfilesConfig, cache: ResponseCache, n: int, max_attempts: int = 3):
    return generate_cached(create_backend(config), _requests(n), cache, lambda r, t: True,
                           batch_size=256, max_attempts=max_attempts, retry_temperature=0.7,
                           label="profiles")


def test_a_closed_port_fails_the_stage_at_the_first_call_naming_url_and_error(tmp_path):
    url = closed_port_url()
    backend = create_backend(_config(url, breaker_failures=4, concurrency=2))
    with pytest.raises(EndpointDead) as caught:
        backend.generate(_requests(50))
    message = str(caught.value)
    assert backend.calls == 1 and backend.answered == 0  # the model listing, nothing else
    assert url in message and "APIConnectionError" in message and "\n" not in message


def test_a_server_that_never_answers_fails_within_the_connect_timeout_not_per_request():
    with chat_server(lambda n: "ok", listing="hang") as (server, url):
        backend = create_backend(_config(url, connect_timeout_s=0.3, timeout_s=600))
        with pytest.raises(EndpointDead, match=f"{url} did not answer a model listing within "
                                               "0.3 s"):
            backend.generate(_requests(40))
    assert server.listings == 1 and server.requests == []


def test_the_liveness_check_runs_once_and_any_http_status_counts_as_alive():
    with chat_server(lambda n: "ok") as (server, url):
        backend = create_backend(_config(url))
        backend.generate(_requests(2))
        backend.generate(_requests(3))
    assert server.listings == 1 and len(server.requests) == 5
    assert backend.calls == 1 + 5


@pytest.mark.parametrize("behaviour", ["error", "hang", "not-json"])
def test_a_dead_endpoint_trips_the_breaker_after_limit_plus_in_flight_requests(behaviour):
    with chat_server(lambda n: behaviour) as (server, url):
        backend = create_backend(_config(url, breaker_failures=3, concurrency=3,
                                         timeout_s=0.2))
        with pytest.raises(EndpointDead, match=url):
            backend.generate(_requests(40))
    # the listing, the limit, plus what was in flight; a timed-out call may never reach a
    # loaded server
    assert 1 + 3 <= backend.calls <= 1 + 3 + 3 - 1 and backend.answered == 0
    assert len(server.requests) <= backend.calls


def test_a_flaky_endpoint_keeps_working_because_an_answer_resets_the_breaker():
    with chat_server(lambda n: "error" if n % 2 else "ok") as (server, url):
        backend = create_backend(_config(url, breaker_failures=2, concurrency=1))
        generations = backend.generate(_requests(6))
    assert [g.text for g in generations] == [f"echo p{i}" for i in range(6)]
    assert [g.calls for g in generations] == [1, 2, 2, 2, 2, 2] and len(server.requests) == 11


def test_answers_before_an_endpoint_dies_mid_batch_are_in_the_cache(tmp_path):
    cache_dir = tmp_path / "llm_cache"
    with chat_server(lambda n: "ok" if n < 5 else "not-json") as (server, url):
        config = _config(url, breaker_failures=3, concurrency=1)
        with pytest.raises(EndpointDead, match=f"5 answers so far are cached in {cache_dir}"):
            _generate(config, ResponseCache(cache_dir), 20)
    assert len(server.requests) == 5 + 3
    reopened = ResponseCache(cache_dir)
    assert len(reopened) == 5 and all(reopened.get(f"k{i}") == f"echo p{i}" for i in range(5))


def test_the_failure_message_counts_every_http_call(tmp_path):
    with chat_server(lambda n: "error") as (server, url):
        config = _config(url, breaker_failures=0, max_retries=2)
        with pytest.raises(GenerationFailed, match="after 2 tries each, 6 calls to it"):
            _generate(config, ResponseCache(tmp_path), 1, max_attempts=2)
    assert len(server.requests) == 6


def _strings(cache_dir) -> str:
    frames = [pl.read_parquet(part) for part in sorted(cache_dir.glob("*.parquet"))]
    assert frames
    return repr([frame.rows() for frame in frames])


@pytest.mark.parametrize(("behaviour", "breaker", "error"),
                         [("echo-500", 0, GenerationFailed), ("echo-400", 0, GenerationFailed),
                          ("echo-500", 3, EndpointDead)])
def test_an_echoed_api_key_is_in_no_cache_row_log_line_or_exception(
        tmp_path, monkeypatch, behaviour, breaker, error):
    monkeypatch.setenv("SRACL_TEST_KEY", CANARY)
    log_file = tmp_path / "run.log"
    handler = logging.FileHandler(log_file)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    cache_dir = tmp_path / "llm_cache"
    try:
        with chat_server(lambda n: behaviour) as (server, url):
            config = _config(url, breaker_failures=breaker, max_retries=1, concurrency=1)
            with pytest.raises(error) as caught:
                _generate(config, ResponseCache(cache_dir), 3, max_attempts=2)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    assert server.headers[0]["authorization"] == f"Bearer {CANARY}"
    text = str(caught.value)
    assert "[redacted]" in text and CANARY not in text
    stored = _strings(cache_dir)
    assert "[redacted]" in stored and CANARY not in stored
    assert all(CANARY.encode() not in part.read_bytes() for part in cache_dir.iterdir())
    assert log_file.read_text() and CANARY not in log_file.read_text()
