"""The real vLLM engine with the embedded model (one engine for the module; short answers)."""

from __future__ import annotations

import pytest

from sracl_core.semantic.backends.base import ChatRequest
from sracl_core.semantic.cache import ResponseCache
from sracl_core.semantic.config import VllmProfilesConfig
from sracl_core.semantic.generation import generate_cached
from sracl_core.semantic.parsing import is_valid_user_answer, parse_item_answer
from sracl_core.semantic.templates import (
    ITEM_JSON_SCHEMA,
    ITEM_PREFILL,
    ITEM_SYSTEM,
    USER_PREFILL,
    USER_SYSTEM,
)

pytestmark = pytest.mark.slow

SYSTEM = USER_SYSTEM.format(domain="beauty products")
ITEM = ITEM_SYSTEM.format(domain="beauty products")


@pytest.fixture(scope="module")
def engine():
    from sracl_core.semantic.backends.vllm_backend import VllmBackend

    backend = VllmBackend(VllmProfilesConfig(vllm={"cpu_kv_cache_gib": 0.5, "max_model_len": 1024}))
    yield backend
    backend.close()


def _user(key: str, titles: str, max_tokens: int = 24) -> ChatRequest:
    return ChatRequest(key=key, system=SYSTEM, prompt=f"Purchased items: {titles}",
                       max_tokens=max_tokens, temperature=0.0)


def test_greedy_answers_are_deterministic_and_bounded(engine):
    requests = [_user("a", "Red lipstick; Lip liner"), _user("b", "Shampoo; Hair oil"),
                _user("c", "Red lipstick; Lip liner")]
    generations = engine.generate(requests)
    assert all(g.error is None and is_valid_user_answer(g.text) for g in generations)
    assert generations[0].text == generations[2].text
    assert generations[0].text != generations[1].text
    assert all(0 < g.completion_tokens <= 24 and g.prompt_tokens > 0 for g in generations)


def test_item_answers_follow_the_json_schema(engine):
    requests = [ChatRequest(key=str(i), system=ITEM, prompt=f"Product information:\nTitle: {t}"
                            "\n\nPurchase sequences ending with this product:\n[None]\n\n"
                            "Answer in JSON.", max_tokens=64, temperature=0.0,
                            json_schema=ITEM_JSON_SCHEMA)
                for i, t in enumerate(["Argan oil hair serum", "Matte red lipstick"])]
    generations = engine.generate(requests)
    for generation in generations:
        assert generation.text.lstrip().startswith("{")
        assert parse_item_answer(generation.text) is not None


def test_prefilled_answers_continue_the_given_start(engine):
    item = ChatRequest(key="i", system=ITEM, prompt="Product information:\nTitle: Argan oil "
                       "hair serum\n\nPurchase sequences ending with this product:\n[None]\n\n"
                       "Answer in JSON.", max_tokens=24, temperature=0.0, prefill=ITEM_PREFILL)
    user = ChatRequest(key="u", system=SYSTEM, prompt="Purchased items: Shampoo; Hair oil",
                       max_tokens=8, temperature=0.0, prefill=USER_PREFILL)
    plain = _user("p", "Shampoo; Hair oil", 8)
    generations = engine.generate([item, plain, user])
    assert generations[0].text.startswith(ITEM_PREFILL)
    assert len(generations[0].text) > len(ITEM_PREFILL)
    assert parse_item_answer(generations[0].text) is not None
    assert generations[2].text.startswith(USER_PREFILL) and not generations[1].text.startswith(
        USER_PREFILL)


def test_a_prompt_longer_than_the_context_fails_alone(engine):
    long = _user("long", "; ".join(["Very long product title with many words"] * 200))
    generations = engine.generate([_user("ok", "Nail polish", 8), long])
    assert generations[0].error is None and generations[0].text
    assert generations[1].text is None and generations[1].error


def test_cached_answers_are_not_generated_again(engine, tmp_path):
    cache = ResponseCache(tmp_path)
    requests = [_user("x1", "Face serum; Eye cream", 16), _user("x2", "Body lotion", 16)]
    kwargs = {"batch_size": 0, "max_attempts": 2, "retry_temperature": 0.7, "label": "test"}
    first, report = generate_cached(engine, requests, cache, lambda r, t: True, **kwargs)
    assert report.generated == 2 and report.completion_tokens > 0
    second, report = generate_cached(engine, requests, ResponseCache(tmp_path),
                                     lambda r, t: True, **kwargs)
    assert report.generated == 0 and report.cached == 2
    assert {k: a.text for k, a in first.items()} == {k: a.text for k, a in second.items()}


def test_closing_the_engine_gives_torch_back_its_thread_setting(engine):
    """Last in this module: it closes the shared engine (the fixture's close is then a no-op).
    vLLM's CPU worker turns torch.set_num_threads into a no-op for the whole process."""
    import torch

    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    torch.set_num_threads(target)
    ignored = torch.get_num_threads() == before
    engine.close()
    torch.set_num_threads(target)
    try:
        assert ignored, "vLLM no longer patches set_num_threads: this work-around can go"
        assert torch.get_num_threads() == target
    finally:
        torch.set_num_threads(before)
