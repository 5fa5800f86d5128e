from sracl_core.semantic.cache import CachedResponse, ResponseCache, response_key


def test_key_changes_with_model_sampling_and_prompt():
    base = response_key("m", {"temperature": 0.0}, "sys", "p")
    assert base == response_key("m", {"temperature": 0.0}, "sys", "p")
    assert len({base, response_key("m2", {"temperature": 0.0}, "sys", "p"),
                response_key("m", {"temperature": 0.5}, "sys", "p"),
                response_key("m", {"temperature": 0.0}, "sys2", "p"),
                response_key("m", {"temperature": 0.0}, "sys", "q")}) == 5


def test_responses_survive_reopening_and_failures_are_kept_but_not_served(tmp_path):
    cache = ResponseCache(tmp_path)
    cache.put([CachedResponse("a", "ok", "alpha"),
               CachedResponse("b", "failed", None, error="boom"),
               CachedResponse("c", "empty", "", attempt=1),
               CachedResponse("c", "failed", None, error="reset", attempt=2)])
    reopened = ResponseCache(tmp_path)
    assert reopened.get("a") == "alpha" and reopened.get("b") is None
    # a failure is no answer: "b" was never answered, "c" once (its failed re-ask is not counted)
    assert (reopened.attempts("b"), reopened.attempts("c"), cache.attempts("c")) == (0, 1, 1)
    assert sorted(reopened.failures()["error"].to_list(), key=str) == [None, "boom", "reset"]
    reopened.put([CachedResponse("b", "ok", "beta", attempt=2)])
    again = ResponseCache(tmp_path)
    assert again.get("b") == "beta" and again.failures().height == 2 and len(again) == 2


def test_many_parts_are_compacted_without_losing_rows(tmp_path):
    cache = ResponseCache(tmp_path)
    for i in range(70):
        cache.put([CachedResponse(f"k{i}", "ok", f"v{i}")])
    compacted = ResponseCache(tmp_path)
    assert len(list(tmp_path.glob("part-*.parquet"))) == 1
    assert all(compacted.get(f"k{i}") == f"v{i}" for i in range(70))


def test_an_interrupted_write_leaves_no_readable_part(tmp_path):
    cache = ResponseCache(tmp_path)
    (tmp_path / ".tmp-part-x.parquet").write_bytes(b"half a file")
    cache.put([CachedResponse("a", "ok", "alpha")])
    assert ResponseCache(tmp_path).get("a") == "alpha"
