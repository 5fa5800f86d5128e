"""Servers the tests start for real, on loopback only (Prefect, MLflow, an LLM endpoint)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx


@contextmanager
def loopback_server(command: Callable[[int], list[str]], health_path: str, log: Path,
                    env: dict[str, str] | None = None, wait_s: float = 300) -> Iterator[str]:
    """Start ``command(port)`` on a free 127.0.0.1 port, wait (at most ``wait_s``) until
    ``health_path`` answers 200, yield its base URL; the whole process group is stopped
    afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with log.open("wb") as output:
        server = subprocess.Popen(command(port), env=env, stdout=output,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    try:
        while True:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {health_path} in {wait_s} s: {log.read_text()[-3000:]}")
            if server.poll() is not None:
                raise AssertionError(f"the server exited: {log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}{health_path}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


MALFORMED = {
    "not-json": b"<html>502 Bad Gateway</html>",
    "truncated": b'{"choices": [{"message": {"content": "cut sh',
    "list-body": b"[]",
    "choices-missing": b'{"id": "x", "object": "chat.completion"}',
    "choices-none": b'{"id": "x", "choices": null}',
    "choices-empty": b'{"id": "x", "choices": []}',
    "choices-not-list": b'{"id": "x", "choices": "stop"}',
    "no-message": b'{"id": "x", "choices": [{"index": 0, "finish_reason": "stop"}]}',
    "content-none": b'{"id": "x", "choices": [{"message": {"content": null}}]}',
    "content-int": b'{"id": "x", "choices": [{"message": {"content": 7}}]}',
}
"""Answers a broken endpoint sends with status 200, by name."""


def mlflow_ui(backend_uri: str, log: Path):
    """``mlflow server`` on a free 127.0.0.1 port until it answers ``/health``; stopped after."""
    return loopback_server(
        lambda port: [sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
                      backend_uri, "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        "/health", log, wait_s=120)


class ChatServer:
    """An OpenAI-compatible chat endpoint on 127.0.0.1 that misbehaves on cue.

    ``behaviour(n)`` picks what POST number n gets: ``ok`` (an answer echoing the
    prompt), ``error`` (500), ``bad`` (400), ``hang`` (no answer until the server
    stops), ``echo-500`` / ``echo-400`` (an error body that echoes the request
    headers, as some proxies do), ``empty`` (an answer with no text), ``429`` (a rate
    limit asking for one second with ``Retry-After``), ``quota`` (OpenAI's
    ``insufficient_quota`` 429), ``strict`` (a 400 for vLLM's ``repetition_penalty``,
    else an answer) or a :data:`MALFORMED` name. Every POST is recorded
    with its arrival time, so tests count the HTTP calls server-side.
    """

    def __init__(self, behaviour: Callable[[int], str], delay: float = 0.0,
                 listing: str = "ok") -> None:
        self.behaviour = behaviour
        self.delay = delay
        self.listing = listing
        """``GET /v1/models``: ``ok`` lists the model, ``hang`` never answers."""
        self.listings = 0
        self.requests: list[dict] = []
        self.arrivals: list[float] = []
        self.headers: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()


def _chat_handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with server.lock:
                server.listings += 1
            if server.listing == "hang":
                server.stopping.wait(60)
                return
            self._send(200, json.dumps({"object": "list", "data": [
                {"id": "served-model", "object": "model", "owned_by": "test"}]}).encode())

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with server.lock:
                number = len(server.requests)
                server.requests.append(body)
                server.arrivals.append(time.monotonic())
                server.headers.append(headers)
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            self._counted = True
            try:
                self._answer(server.behaviour(number), number, body, headers)
            finally:
                self._done()

        def _done(self) -> None:
            """A request stops counting as in flight before its answer is written: a client
            may send its next request the moment it reads one, before this thread returns."""
            if getattr(self, "_counted", False):
                self._counted = False
                with server.lock:
                    server.in_flight -= 1

        def _answer(self, action: str, number: int, body: dict, headers: dict) -> None:
            if action == "hang":
                server.stopping.wait(60)
                return
            if action in MALFORMED:
                self._send(200, MALFORMED[action])
                return
            if action in ("echo-500", "echo-400"):
                echoed = {"error": {"message": f"upstream refused; request headers: {headers}",
                                     "headers": headers}}
                self._send(int(action[-3:]), json.dumps(echoed).encode())
                return
            if action == "strict" and "repetition_penalty" in body:  # as OpenAI's own API
                self._send(400, json.dumps({"error": {
                    "message": "Unrecognized request argument supplied: repetition_penalty"}}
                ).encode())
                return
            if action == "429":
                self._send(429, json.dumps({"error": {"message": "slow down"}}).encode(),
                           {"Retry-After": "1"})
                return
            if action == "quota":
                self._send(429, json.dumps({"error": {
                    "message": "You exceeded your current quota", "type": "insufficient_quota",
                    "code": "insufficient_quota"}}).encode())
                return
            if action in ("error", "bad"):
                status, message = (500, "overloaded") if action == "error" else (400, "bad")
                self._send(status, json.dumps({"error": {"message": message}}).encode())
                return
            time.sleep(server.delay)
            text = "" if action == "empty" else f"echo {body['messages'][-1]['content']}"
            self._send(200, json.dumps({
                "id": f"c{number}", "object": "chat.completion", "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
            }).encode())

        def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
            self._done()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def chat_server(behaviour: Callable[[int], str], delay: float = 0.0,
                listing: str = "ok") -> Iterator[tuple[ChatServer, str]]:
    """Serve a :class:`ChatServer` on a free loopback port; yields it and its ``/v1`` URL."""
    state = ChatServer(behaviour, delay, listing)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _chat_handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        state.stopping.set()
        httpd.shutdown()
        httpd.server_close()


def closed_port_url() -> str:
    """A loopback ``/v1`` URL where nothing listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
