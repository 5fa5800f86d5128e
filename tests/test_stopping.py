"""A stop request: set by the main thread, seen by every thread, cleared for the next command."""

from __future__ import annotations

import signal
import threading

import pytest

from sracl_core.stopping import (
    clear_stop,
    request_stop,
    signals_stop_after_step,
    stop_requested,
    stop_signal,
)


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


def test_inside_training_the_first_signal_asks_for_a_stop_and_a_second_acts_as_before() -> None:
    """The first SIGTERM only sets the request (the loop stops after its step); the second
    reaches the handler that was there before (here one that records it)."""
    before: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _: before.append(signum))
    try:
        with signals_stop_after_step():
            signal.raise_signal(signal.SIGTERM)
            assert stop_requested() and stop_signal() == signal.SIGTERM and before == []
            signal.raise_signal(signal.SIGTERM)
            assert before == [signal.SIGTERM]
        signal.raise_signal(signal.SIGTERM)
        assert before == [signal.SIGTERM, signal.SIGTERM], "the old handler is back afterwards"
    finally:
        signal.signal(signal.SIGTERM, previous)
        clear_stop()
    assert stop_signal() is None


def test_a_second_ctrl_c_while_training_interrupts_at_once() -> None:
    """With Python's own SIGINT handler before (earlier tests may have left another one)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), signals_stop_after_step():
            try:
                signal.raise_signal(signal.SIGINT)
                assert stop_requested() and stop_signal() == signal.SIGINT
                signal.raise_signal(signal.SIGINT)
            finally:
                clear_stop()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("enabled", [True, False])
def test_nothing_is_installed_off_the_main_thread_or_for_torchrun_ranks(enabled: bool) -> None:
    seen: list[object] = []

    def look() -> None:
        with signals_stop_after_step(enabled=enabled):
            seen.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    if enabled:
        worker = threading.Thread(target=look)
        worker.start()
        worker.join()
    else:
        look()
    assert seen == [before]


def test_a_signal_after_the_last_step_is_not_lost_when_training_ends() -> None:
    """Training that ends on its own after the request (it came during the last validation)
    hands the signal to the handler outside, so the command still stops."""
    outside: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _: outside.append(signum))
    try:
        with signals_stop_after_step():
            signal.raise_signal(signal.SIGTERM)
            assert outside == []
        assert outside == [signal.SIGTERM] and not stop_requested()
    finally:
        signal.signal(signal.SIGTERM, previous)
        clear_stop()
