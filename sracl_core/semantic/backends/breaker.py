"""Stop calling an endpoint that is plainly dead, instead of retrying every prompt.

Without it a closed port or an always-500 server was called
``max_attempts x (max_retries + 1)`` times per prompt (3,600 requests and 22
minutes for the sample), and a hanging one took hours. The breaker counts
consecutive endpoint failures across all requests in flight (connection
errors, timeouts, server errors, malformed answers); one good answer resets
it, so a flaky endpoint keeps working while a dead one trips after ``limit``
calls plus the few already in flight.
"""

from __future__ import annotations

from sracl_core.errors import SraclError


class EndpointDead(SraclError):
    """The endpoint failed so many calls in a row that the stage stops."""


class CircuitBreaker:
    """Consecutive-failure counter with the last error, for the stage's message."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.consecutive = 0
        self.last_error: str | None = None

    @property
    def tripped(self) -> bool:
        return 0 < self.limit <= self.consecutive

    def success(self) -> None:
        self.consecutive = 0

    def failure(self, error: str) -> None:
        self.consecutive += 1
        self.last_error = error
