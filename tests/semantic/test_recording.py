"""The recorder flushes answers to the cache in parts: by count, by time, and on demand."""

from sracl_core.semantic.cache import CachedResponse, ResponseCache


def test_answers_are_flushed_every_n_answers_or_t_seconds_and_on_demand(tmp_path):
    from sracl_core.semantic.recording import CacheRecorder

    now = [0.0]
    cache = ResponseCache(tmp_path)
    recorder = CacheRecorder(cache, every=3, seconds=10.0, clock=lambda: now[0])
    for i in range(4):
        recorder.add(CachedResponse(f"k{i}", "ok", f"v{i}"))
    assert len(ResponseCache(tmp_path)) == 3
    now[0] = 10.0
    recorder.add(CachedResponse("k4", "ok", "v4"))
    assert len(ResponseCache(tmp_path)) == 5
    recorder.add(CachedResponse("k5", "failed", None, error="Authorization: Bearer sk-x1234"))
    recorder.flush()
    recorder.flush()
    assert len(list(tmp_path.glob("part-*.parquet"))) == 3
    assert ResponseCache(tmp_path).failures()["error"].to_list() == [
        "Authorization: Bearer [redacted]"]


def test_answers_reach_disk_on_time_even_when_no_further_answer_comes(tmp_path):
    """An endpoint that stalls after some answers: a timer flushes them (a kill then keeps
    them), with nothing else called on the recorder."""
    import time

    from sracl_core.semantic.recording import CacheRecorder

    recorder = CacheRecorder(ResponseCache(tmp_path), every=100, seconds=0.05)
    recorder.add(CachedResponse("k0", "ok", "v0"))
    recorder.add(CachedResponse("k1", "ok", "v1"))
    deadline = time.monotonic() + 30
    while len(ResponseCache(tmp_path)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(ResponseCache(tmp_path)) == 2
    parts = sorted(tmp_path.glob("part-*.parquet"))
    recorder.flush()
    assert sorted(tmp_path.glob("part-*.parquet")) == parts  # nothing was left to write


def test_a_timer_flush_that_fails_keeps_its_answers_for_the_final_flush(tmp_path, monkeypatch):
    import time

    from sracl_core.semantic.recording import CacheRecorder

    cache = ResponseCache(tmp_path)
    recorder = CacheRecorder(cache, every=100, seconds=0.05)
    real_put, failures = cache.put, []

    def disk_full_once(responses):
        if not failures:
            failures.append(len(responses))
            raise OSError(28, "No space left on device")
        real_put(responses)

    monkeypatch.setattr(cache, "put", disk_full_once)
    recorder.add(CachedResponse("k0", "ok", "v0"))
    deadline = time.monotonic() + 30
    while not failures and time.monotonic() < deadline:
        time.sleep(0.05)
    assert failures == [1]
    recorder.flush()  # the batch's end: the kept answer is written now
    assert ResponseCache(tmp_path).get("k0") == "v0"
