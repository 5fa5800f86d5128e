"""Chat-completion requests as sent, and responses parsed or refused as malformed."""

from __future__ import annotations

import json

import pytest

from sracl_core.semantic.backends.base import ChatRequest
from sracl_core.semantic.backends.completion import MalformedAnswer, arguments, parse

REQUEST = ChatRequest(key="k", system="sys", prompt="user turn", max_tokens=16,
                      temperature=0.0)


def test_a_plain_request_is_two_messages_and_nothing_engine_specific() -> None:
    assert arguments("m", REQUEST) == {
        "model": "m", "temperature": 0.0, "max_tokens": 16,
        "messages": [{"role": "system", "content": "sys"},
                     {"role": "user", "content": "user turn"}]}


def test_prefill_schema_seed_and_penalty_reach_the_request() -> None:
    from dataclasses import replace

    values = arguments("m", replace(REQUEST, prefill='{"a": "', json_schema={"type": "object"},
                                    seed=7, repetition_penalty=1.1))
    assert values["messages"][-1] == {"role": "assistant", "content": '{"a": "'}
    assert values["response_format"]["json_schema"]["schema"] == {"type": "object"}
    assert values["seed"] == 7
    assert values["extra_body"] == {"continue_final_message": True,
                                    "add_generation_prompt": False, "repetition_penalty": 1.1}
    assert arguments("m", replace(REQUEST, json_object=True))["response_format"] == {
        "type": "json_object"}


def test_a_good_answer_keeps_its_prefill_and_counts() -> None:
    body = json.dumps({"choices": [{"message": {"content": 'A lipstick."}'},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 12, "completion_tokens": 5}}).encode()
    answer = parse(body, prefill='{"item summary": "')
    assert answer.text == '{"item summary": "A lipstick."}'
    assert (answer.prompt_tokens, answer.completion_tokens, answer.finish_reason) == (
        12, 5, "stop")


def test_an_empty_text_is_an_answer_with_its_prefill_for_the_validator_to_judge() -> None:
    body = b'{"choices": [{"message": {"content": "  "}, "finish_reason": "stop"}]}'
    assert parse(body, prefill=None).text == "  "
    assert parse(body, prefill='{"a": "').text == '{"a": "  '


@pytest.mark.parametrize("body, problem", [
    (b"<html>502 Bad Gateway</html>", "not JSON"),
    (b'{"error": "overloaded"}', "no choices"),
    (b'{"choices": [{"message": {"content": null}}]}', "no text"),
])
def test_a_2xx_without_an_answer_is_malformed(body: bytes, problem: str) -> None:
    with pytest.raises(MalformedAnswer, match=problem):
        parse(body, prefill=None)
