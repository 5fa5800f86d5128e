"""The default templates agree with the parser and the JSON schema they go with."""

from __future__ import annotations

import json

from sracl_core.semantic import templates
from sracl_core.semantic.parsing import parse_item_answer


def test_the_schema_requires_exactly_the_two_keys_the_parser_reads() -> None:
    schema = templates.ITEM_JSON_SCHEMA
    assert schema["required"] == [templates.ITEM_SUMMARY_KEY, templates.ITEM_ANALYSIS_KEY]
    assert set(schema["properties"]) == set(schema["required"])
    answer = json.dumps({templates.ITEM_SUMMARY_KEY: "A lipstick.",
                         templates.ITEM_ANALYSIS_KEY: "Bold dressers."})
    parsed = parse_item_answer(answer)
    assert parsed is not None and (parsed.summary, parsed.user_analysis) == (
        "A lipstick.", "Bold dressers.")


def test_an_answer_continuing_the_item_prefill_parses() -> None:
    answer = templates.ITEM_PREFILL + 'A red lipstick.", "' + templates.ITEM_ANALYSIS_KEY + \
        '": "Bold dressers."}'
    parsed = parse_item_answer(answer)
    assert parsed is not None and parsed.summary == "A red lipstick."
    for key in (templates.ITEM_SUMMARY_KEY, templates.ITEM_ANALYSIS_KEY):
        assert f'"{key}"' in templates.ITEM_SYSTEM  # the system prompt names the keys
