"""Answers into the response cache as they arrive, in small atomic flushes.

Writing once per batch lost every answer of the batch when the run died in
its middle (with the default batch of 256, all 200 good answers of a crashed
sample run). Each answer is buffered here and the buffer is appended to the
cache (one Parquet part, written under a temporary name and renamed) every
:data:`FLUSH_ANSWERS` answers or :data:`FLUSH_SECONDS` seconds, and always
when the batch ends or fails; so an exception loses nothing that arrived, and
a hard kill at most the answers in flight plus the last few seconds' answers.
The time limit is kept by a timer thread, not only checked when the next answer
arrives: an endpoint that stalls after 50 answers would otherwise hold them in
memory for as long as it stalls, and a kill then lost them all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sracl_core.semantic.cache import CachedResponse, ResponseCache

log = logging.getLogger(__name__)

FLUSH_ANSWERS = 32
"""A part per 32 answers: the 4,352 answers of the sample make ~136 parts, which the
cache compacts into one when next opened, instead of 4,352 single-row files."""
FLUSH_SECONDS = 10.0
"""A slow endpoint still gets its answers on disk every 10 s."""


class CacheRecorder:
    """A write buffer in front of a :class:`ResponseCache`."""

    def __init__(self, cache: ResponseCache, every: int = FLUSH_ANSWERS,
                 seconds: float = FLUSH_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cache = cache
        self.every = every
        self.seconds = seconds
        self._clock = clock
        self._buffer: list[CachedResponse] = []
        self._since = clock()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def add(self, response: CachedResponse) -> None:
        with self._lock:
            self._buffer.append(response)
            due = len(self._buffer) >= self.every or self._clock() - self._since >= self.seconds
            if not due and self._timer is None:
                self._timer = threading.Timer(self.seconds, self._flush_on_time)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.flush()

    def flush(self) -> None:
        """Append the buffered answers as one part (nothing if the buffer is empty)."""
        with self._lock:
            timer, self._timer = self._timer, None
            if timer is not None:
                timer.cancel()  # a no-op when this is the timer's own call
            buffered, self._buffer = self._buffer, []
            self._since = self._clock()
            try:
                self.cache.put(buffered)
            except BaseException:
                self._buffer = buffered + self._buffer  # kept for the next flush to retry
                raise

    def _flush_on_time(self) -> None:
        """The timer's flush: a failure is logged and its answers kept in the buffer, so the
        batch's own final flush retries them and raises where the caller sees it."""
        try:
            self.flush()
        except Exception as error:
            log.warning("llm cache: could not write %d answers yet (%s); retried at the "
                        "batch's end", len(self._buffer), error)
