import polars as pl

from sracl_core.semantic.config import OpenAIProfilesConfig, PromptTemplates
from sracl_core.semantic.generation import Answer
from sracl_core.semantic.profiles import (
    item_profiles,
    item_requests,
    json_mode,
    prefills,
    user_profiles,
    user_requests,
)

TEMPLATES = PromptTemplates()


def _items() -> pl.DataFrame:
    return pl.DataFrame({"item": pl.Series([1, 2, 3], dtype=pl.Int32),
                         "system": ["s"] * 3, "prompt": ["p1", "p2", "p3"],
                         "name": ["Red lipstick", "Shampoo", "item B0001"],
                         "has_text": [True, True, False]})


def test_items_without_text_are_not_sent_and_keep_their_name():
    config = OpenAIProfilesConfig(model="m")
    requests = item_requests(_items(), config, TEMPLATES)
    assert [r.prompt for r in requests] == ["p1", "p2"]
    answers = {requests[0].key: Answer('{"item summary": "Bold red.", '
                                       '"potential user analysis": "Fans of red."}', True),
               requests[1].key: Answer("rambling without json", False)}
    table = item_profiles(_items(), config, TEMPLATES, answers)
    rows = {row["item"]: row for row in table.iter_rows(named=True)}
    assert rows[1]["text"] == "Red lipstick. Bold red. Fans of red."
    assert not rows[1]["parse_fallback"] and rows[1]["generated"]
    assert rows[2]["parse_fallback"] and rows[2]["summary"] == "rambling without json"
    assert rows[3]["text"] == "item B0001" and not rows[3]["generated"]
    untitled = item_profiles(_items(), config.model_copy(update={"title_in_item_text": False}),
                             TEMPLATES, answers)
    assert untitled["text"][0] == "Bold red. Fans of red."


def test_settings_that_change_answers_change_the_cache_key():
    base = OpenAIProfilesConfig(model="m")
    key = item_requests(_items(), base, TEMPLATES)[0].key
    for change in ({"max_tokens_item": 7}, {"model": "other"}, {"temperature": 0.3},
                   {"json_mode": "none"}, {"json_mode": "none", "prefill": "on"}):
        assert item_requests(_items(), base.model_copy(update=change), TEMPLATES)[0].key != key
    free = base.model_copy(update={"json_mode": "none"})
    assert (item_requests(_items(), free, TEMPLATES)[0].key
            != item_requests(_items(), free.model_copy(update={"prefill": "on"}),
                             TEMPLATES)[0].key)
    assert item_requests(_items(), base.model_copy(update={"batch_size": 3}),
                         TEMPLATES)[0].key == key


def test_auto_modes_prefill_for_vllm_only_and_never_with_a_schema():
    served = OpenAIProfilesConfig(model="m")
    assert json_mode(served) == "schema" and prefills(served, TEMPLATES) == {
        "item": None, "user": None}
    forced = OpenAIProfilesConfig(model="m", prefill="on", json_mode="schema")
    assert prefills(forced, TEMPLATES) == {"item": None, "user": TEMPLATES.user_prefill}
    free = forced.model_copy(update={"json_mode": "none"})
    assert prefills(free, TEMPLATES)["item"] == TEMPLATES.item_prefill


def test_empty_user_answers_fall_back_to_the_titles():
    prompts = pl.DataFrame({"profile": pl.Series([0, 1], dtype=pl.Int64),
                            "user": pl.Series([5, 6], dtype=pl.Int32),
                            "sample": pl.Series([None, None], dtype=pl.Int64),
                            "system": ["s", "s"], "prompt": ["a", "b"],
                            "titles": ["A; B", "C"], "has_text": [True, True]})
    config = OpenAIProfilesConfig(model="m")
    requests = user_requests(prompts, config, TEMPLATES)
    answers = {requests[0].key: Answer("Likes  bold\ncolours.", True),
               requests[1].key: Answer("", False)}
    table = user_profiles(prompts, config, TEMPLATES, answers)
    assert table["text"].to_list() == ["Likes bold colours. Chosen: A; B", "C"]
    assert table["parse_fallback"].to_list() == [False, True]
