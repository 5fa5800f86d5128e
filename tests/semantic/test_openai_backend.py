"""The OpenAI-compatible backend against real HTTP servers on 127.0.0.1 (stdlib http.server)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sracl_core.semantic.backends.base import ChatRequest, create_backend
from sracl_core.semantic.config import ProfilesConfig
from sracl_core.semantic.templates import ITEM_JSON_SCHEMA

pytestmark = pytest.mark.network_loopback


class ChatServer:
    """Speaks POST /v1/chat/completions; ``behaviour(n)`` picks what request n gets."""

    def __init__(self, behaviour: Callable[[int], str], delay: float = 0.0) -> None:
        self.behaviour = behaviour
        self.delay = delay
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with server.lock:
                number = len(server.requests)
                server.requests.append(body)
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                action = server.behaviour(number)
                time.sleep(server.delay if action == "ok" else 0)
                if action == "hang":
                    time.sleep(3)
                    return
                if action == "error":
                    self._send(500, {"error": {"message": "overloaded", "type": "server"}})
                    return
                if action == "bad":
                    self._send(400, {"error": {"message": "bad request", "type": "invalid"}})
                    return
                prompt = body["messages"][-1]["content"]
                self._send(200, {
                    "id": f"c{number}", "object": "chat.completion", "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": f"echo {prompt}"}}],
                    "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
                })
            finally:
                with server.lock:
                    server.in_flight -= 1

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def serve(behaviour: Callable[[int], str], delay: float = 0.0) -> Iterator[tuple[ChatServer, str]]:
    state = ChatServer(behaviour, delay)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _config(url: str, **openai: object) -> ProfilesConfig:
    options = {"base_url": url, "api_key_env": "SRACL_TEST_KEY", "backoff_s": 0.01, **openai}
    return ProfilesConfig(backend="openai", model="served-model", openai=options)


def _requests(n: int, **extra: object) -> list[ChatRequest]:
    return [ChatRequest(key=str(i), system="sys", prompt=f"p{i}", max_tokens=16,
                        temperature=0.0, **extra) for i in range(n)]


def test_answers_in_order_with_usage_key_from_env_and_bounded_concurrency(monkeypatch, caplog):
    monkeypatch.setenv("SRACL_TEST_KEY", "sk-very-secret")
    caplog.set_level(logging.DEBUG)
    with serve(lambda n: "ok", delay=0.2) as (server, url):
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
    with serve(lambda n: "error" if n < 2 else "ok") as (server, url):
        generations = create_backend(_config(url, max_retries=3)).generate(_requests(1))
    assert generations[0].text == "echo p0" and generations[0].error is None
    assert len(server.requests) == 3


def test_a_server_that_times_out_gives_an_error_per_request_not_an_exception():
    with serve(lambda n: "hang") as (server, url):
        generations = create_backend(_config(url, timeout_s=0.3, max_retries=1)).generate(
            _requests(2))
    assert all(g.text is None and "Timeout" in g.error for g in generations)
    assert len(server.requests) == 4


def test_client_errors_are_not_retried():
    with serve(lambda n: "bad") as (server, url):
        generations = create_backend(_config(url, max_retries=3)).generate(_requests(1))
    assert generations[0].error is not None and "400" in generations[0].error
    assert len(server.requests) == 1
