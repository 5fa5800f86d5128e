"""Secrets out of every error string the semantic stages store or log.

An endpoint's error body can echo the request (some proxies send the headers
back), and exception texts travel into the response cache, log files and the
orchestrator's database. Every error string is therefore built by
:func:`error_text` (or passed through :func:`redact`), which removes the
secret values registered by the backends (the API key) and any value that
looks like a credential header (``Authorization``, ``api-key``, ``Bearer
...``), so a key the process never registered (a proxy's own) is caught too.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"
_MIN_SECRET_CHARS = 4
"""Shorter "secrets" (a placeholder key) would redact ordinary words."""

_secrets: set[str] = set()

_HEADER = re.compile(
    r"(?i)((?:proxy-)?authorization|x-api-key|api[-_ ]?key|access[-_]token)"
    r"(['\"]?\s*[:=]\s*['\"]?)"
    r"((?:bearer|basic|token)\s+)?(?:\[redacted\]|[^\s'\",;{}\[\]]+)")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}")


def register_secret(value: str | None) -> None:
    """Remember a secret value (an API key) so every later :func:`redact` removes it."""
    if value and len(value) >= _MIN_SECRET_CHARS:
        _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with registered secrets and credential-looking header values replaced."""
    text = _HEADER.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m[1]} {REDACTED}", text)
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def error_text(error: BaseException) -> str:
    """One redacted line naming an exception: ``Type: message``."""
    message = " ".join(str(error).split())
    return redact(f"{type(error).__name__}: {message}" if message else type(error).__name__)
