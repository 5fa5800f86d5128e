"""The circuit breaker trips after ``limit`` consecutive failures; one success resets it."""

from __future__ import annotations

from sracl_core.semantic.backends.breaker import CircuitBreaker


def test_consecutive_failures_trip_it_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(limit=3)
    breaker.failure("connection refused")
    breaker.failure("timeout")
    assert not breaker.tripped
    breaker.success()
    breaker.failure("HTTP 500")
    breaker.failure("HTTP 500")
    assert not breaker.tripped  # two in a row since the success
    breaker.failure("HTTP 502")
    assert breaker.tripped and breaker.last_error == "HTTP 502"


def test_a_limit_of_zero_never_trips() -> None:
    breaker = CircuitBreaker(limit=0)
    for _ in range(100):
        breaker.failure("down")
    assert not breaker.tripped
