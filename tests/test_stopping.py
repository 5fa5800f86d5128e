"""A stop request: set by the main thread, seen by every thread, cleared for the next command."""

from __future__ import annotations

import threading

from sracl_core.stopping import clear_stop, request_stop, stop_requested


def test_a_request_made_in_one_thread_is_seen_in_another_until_cleared() -> None:
    seen: list[bool] = []
    try:
        assert not stop_requested()
        request_stop()
        worker = threading.Thread(target=lambda: seen.append(stop_requested()))
        worker.start()
        worker.join()
        assert seen == [True]
    finally:
        clear_stop()
    assert not stop_requested()
