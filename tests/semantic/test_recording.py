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
