"""An endpoint that works but says nothing, asks to be waited for, or is out of quota.

Real HTTP servers on 127.0.0.1 (:mod:`tests.servers`) and the real response cache.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import openai
import pytest

from sracl_core.semantic.backends.base import ChatRequest, create_backend
from sracl_core.semantic.backends.breaker import EndpointDead
from sracl_core.semantic.backends.openai_backend import MAX_RETRY_AFTER_S, retry_after_seconds
from sracl_core.semantic.cache import ResponseCache
from sracl_core.semantic.config import OpenAIProfilesConfig
from sracl_core.semantic.generation import generate_cached
from tests.servers import chat_server

pytestmark = pytest.mark.network_loopback


def _config(url: str, **openai_options: object) -> OpenAIProfilesConfig:
    options = {"base_url": url, "backoff_s": 0.01, "concurrency": 1, **openai_options}
    return OpenAIProfilesConfig(model="served-model", openai=options)


def _generate(config: OpenAIProfilesConfig, cache: ResponseCache, n: int):
    requests = [ChatRequest(key=f"k{i}", system="sys", prompt=f"p{i}", max_tokens=16,
                            temperature=0.0) for i in range(n)]
    return generate_cached(create_backend(config), requests, cache, lambda r, t: True,
                           batch_size=256, max_attempts=3, retry_temperature=0.7,
                           label="profiles")


def test_an_empty_answer_is_asked_again_warmer_and_the_stage_finishes(tmp_path):
    with chat_server(lambda n: "empty" if n == 1 else "ok") as (server, url):
        answers, report = _generate(_config(url), ResponseCache(tmp_path), 3)
    assert [answers[f"k{i}"].text for i in range(3)] == ["echo p0", "echo p1", "echo p2"]
    sampling = [(r["messages"][-1]["content"], r["temperature"], r.get("seed"))
                for r in server.requests]
    assert sampling == [("p0", 0.0, None), ("p1", 0.0, None), ("p2", 0.0, None),
                        ("p1", 0.7, 2)]
    assert (report.retried, report.failed_final) == (1, 0)


def test_a_rate_limit_waits_as_long_as_retry_after_asks(tmp_path):
    with chat_server(lambda n: "429" if n == 0 else "ok") as (server, url):
        answers, _ = _generate(_config(url), ResponseCache(tmp_path), 1)
    assert answers["k0"].text == "echo p0" and len(server.requests) == 2
    assert server.arrivals[1] - server.arrivals[0] >= 1.0  # the backoff alone is 0.01 s
    assert [r["temperature"] for r in server.requests] == [0.0, 0.0]  # an HTTP retry


def test_out_of_quota_is_final_and_trips_the_breaker_instead_of_retrying(tmp_path):
    limits = {"breaker_failures": 3, "max_retries": 4}
    with (chat_server(lambda n: "quota") as (server, url),
          pytest.raises(EndpointDead, match=r"last: out of quota: RateLimitError: .*quota")):
        _generate(_config(url, **limits), ResponseCache(tmp_path), 5)
    assert len(server.requests) == 3  # no retries: one call per prompt until the trip


def _rate_limit(headers: dict[str, str]) -> openai.RateLimitError:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(429, headers=headers, request=request)
    return openai.RateLimitError("slow down", response=response, body=None)


@pytest.mark.parametrize(("headers", "seconds"), [
    ({}, None),
    ({"retry-after": "7"}, 7.0),
    ({"retry-after": "0.5"}, 0.5),
    ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
    ({"retry-after": "soon"}, None),
    ({"retry-after": "86400"}, MAX_RETRY_AFTER_S),
    ({"retry-after": "-3"}, 0.0),
    ({"retry-after": "nan"}, None),
    ({"retry-after-ms": "nan", "retry-after": "2"}, 2.0),
])
def test_retry_after_is_read_in_seconds_or_milliseconds_and_capped(headers, seconds):
    assert retry_after_seconds(_rate_limit(headers)) == seconds


def test_retry_after_as_an_http_date_is_the_time_until_then():
    then = datetime.now(UTC) + timedelta(seconds=30)
    seconds = retry_after_seconds(_rate_limit({"retry-after": format_datetime(then, usegmt=True)}))
    assert seconds is not None and 27 <= seconds <= 30


def test_an_endpoint_that_only_ever_says_nothing_trips_the_breaker(tmp_path):
    with (chat_server(lambda n: "empty") as (server, url),
          pytest.raises(EndpointDead, match=r"failed 3 calls in a row \(last: an empty answer\)")):
        _generate(_config(url, breaker_failures=3), ResponseCache(tmp_path), 20)
    assert len(server.requests) == 3


def test_a_server_that_refuses_a_vllm_extension_is_told_which_setting_sent_it(tmp_path):
    request = ChatRequest(key="k", system="sys", prompt="p", max_tokens=16, temperature=0.0,
                          repetition_penalty=1.1)
    with chat_server(lambda n: "strict") as (server, url):
        backend = create_backend(_config(url, breaker_failures=0))
        refused = backend.generate([request])[0]
        plain = backend.generate([dataclasses.replace(request, repetition_penalty=1.0)])[0]
    assert refused.error is not None and refused.error.endswith(
        "(repetition_penalty is a vLLM extension this server refuses: set "
        "profiles.repetition_penalty=1.0, which sends none)")
    assert plain.text == "echo p" and len(server.requests) == 2
