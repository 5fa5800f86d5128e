"""generate_cached: cache first, retries at the retry temperature, answers or a clear failure.

The backend is the scripted fake (an engine cannot be told to answer badly on cue).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sracl_core.semantic.backends.base import ChatRequest
from sracl_core.semantic.cache import ResponseCache
from sracl_core.semantic.generation import GenerationFailed, generate_cached
from sracl_core.semantic.parsing import is_valid_item_answer
from tests.semantic.fakes import ScriptedFakeBackend, use_scripted_fake


def _request(key: str) -> ChatRequest:
    return ChatRequest(key=key, system="s", prompt=f"Item information\n{key}", max_tokens=8,
                       temperature=0.0)


def _generate(cache: ResponseCache, keys: list[str], max_attempts: int = 3):
    backend = ScriptedFakeBackend(type("C", (), {"model": "fake"})())
    return generate_cached(backend, [_request(k) for k in keys], cache,
                           lambda request, text: is_valid_item_answer(text), batch_size=2,
                           max_attempts=max_attempts, retry_temperature=0.7, label="items")


def test_cached_prompts_are_not_sent_again_and_duplicates_are_sent_once(tmp_path: Path) -> None:
    fake = use_scripted_fake()
    cache = ResponseCache(tmp_path)
    answers, report = _generate(cache, ["a", "b", "a"])
    assert set(answers) == {"a", "b"} and all(answer.valid for answer in answers.values())
    assert (report.prompts, report.cached, report.generated) == (3, 0, 2)
    answers, report = _generate(ResponseCache(tmp_path), ["a", "b", "c"])
    assert (report.cached, report.generated) == (2, 1)
    assert [[r.key for r in batch] for batch in fake.calls] == [["a", "b"], ["c"]]


def test_an_invalid_answer_is_retried_warmer_and_kept_flagged_when_it_stays_bad(
        tmp_path: Path) -> None:
    fake = use_scripted_fake()
    fake.bad_prompts = {"\nbad"}
    answers, report = _generate(ResponseCache(tmp_path), ["good", "bad"])
    retries = [request for batch in fake.calls[1:] for request in batch]
    assert [r.key for r in retries] == ["bad", "bad"]
    assert {r.temperature for r in retries} == {0.7} and [r.seed for r in retries] == [2, 3]
    assert answers["good"].valid and not answers["bad"].valid
    assert answers["bad"].text == "no json here, sorry"
    assert (report.retried, report.invalid_final) == (2, 1)


def test_a_backend_that_fails_a_prompt_every_time_fails_the_call_naming_what_is_kept(
        tmp_path: Path) -> None:
    fake = use_scripted_fake()
    fake.failing_prompts = {"\nboom"}
    with pytest.raises(GenerationFailed, match=r"items: the backend failed on 1 prompts after "
                                               r"2 tries .*engine exploded.* the 1 answers so "
                                               r"far are cached"):
        _generate(ResponseCache(tmp_path), ["fine", "boom"], max_attempts=2)


def test_a_backend_failure_is_no_answer_so_the_next_try_stays_greedy(tmp_path: Path) -> None:
    fake = use_scripted_fake()
    fake.failing_prompts = {"\nboom"}
    with pytest.raises(GenerationFailed):
        _generate(ResponseCache(tmp_path), ["boom"], max_attempts=2)
    fake.failing_prompts = set()
    reopened = ResponseCache(tmp_path)
    assert reopened.attempts("boom") == 0
    answers, _ = _generate(reopened, ["boom"])
    sent = [request for batch in fake.calls for request in batch]
    assert [(r.temperature, r.seed) for r in sent] == [(0.0, None)] * 3
    assert answers["boom"].valid and ResponseCache(tmp_path).attempts("boom") == 1
