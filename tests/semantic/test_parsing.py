import pytest

from sracl_core.semantic.parsing import (
    is_valid_item_answer,
    is_valid_user_answer,
    item_answer_or_fallback,
    parse_item_answer,
)

GOOD = '{"item summary": "A red lipstick.", "potential user analysis": "Bold dressers."}'


@pytest.mark.parametrize("text", [
    GOOD,
    f"```json\n{GOOD}\n```",
    f"Sure! Here it is:\n{GOOD}\nHope this helps {{:)}}",
    "{'item summary': 'A red lipstick.', 'potential user analysis': 'Bold dressers.'}",
    '{"Item_Summary": "A red lipstick.", "Potential User Analysis": "Bold dressers."}',
    '```\n{"item summary": "A red lipstick.", "potential user analysis": "Bold dressers."}',
])
def test_variants_parse_to_the_same_fields(text):
    answer = parse_item_answer(text)
    assert answer is not None and not answer.fallback
    assert answer.summary == "A red lipstick."
    assert answer.user_analysis == "Bold dressers."


def test_answer_cut_at_the_token_limit_keeps_what_is_there():
    answer = parse_item_answer('{"item summary": "A red lipstick that lasts", "potential us')
    assert answer is not None and answer.summary == "A red lipstick that lasts"
    assert answer.user_analysis == ""


@pytest.mark.parametrize("text", ["", "I cannot help with that.", "{}", '{"other": 1}', "[1, 2]"])
def test_unusable_answers_are_invalid_and_fall_back_to_raw_text(text):
    assert not is_valid_item_answer(text)
    answer = item_answer_or_fallback(text)
    assert answer.fallback and answer.summary == " ".join(text.split())


def test_user_answer_needs_words():
    assert is_valid_user_answer("Likes gentle, fragrance-free skincare.")
    assert not is_valid_user_answer("  \n ")


def test_a_broken_answer_keeps_apostrophes_inside_double_quotes():
    """Seen on Beauty: the model's JSON broke after the first value, and the value was cut at
    "L'Oreal" -> "The L" for 1.8% of items until the quote had to match its opener."""
    text = ('{"item summary": "The L\'Oreal Paris Colour Riche Nail, Pink", '
            '"sequencing_items"][0]["title"] = "x";')
    answer = parse_item_answer(text)
    assert answer is not None and answer.summary == "The L'Oreal Paris Colour Riche Nail, Pink"
    single = parse_item_answer("{'item summary': 'She said \"wow\" twice', 'potential user")
    assert single is not None and single.summary == 'She said "wow" twice'
