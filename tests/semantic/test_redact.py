from sracl_core.semantic.redact import REDACTED, error_text, redact, register_secret


def test_a_registered_key_is_redacted_wherever_it_appears():
    register_secret("sk-registered-51d0")
    assert redact("echo sk-registered-51d0 twice sk-registered-51d0") == (
        f"echo {REDACTED} twice {REDACTED}")


def test_credential_headers_are_redacted_even_when_the_key_was_never_registered():
    cases = {
        "Authorization: Bearer abc123XYZ next": f"Authorization: Bearer {REDACTED} next",
        "{'authorization': 'Bearer tok-9f', 'host': 'h'}":
            f"{{'authorization': 'Bearer {REDACTED}', 'host': 'h'}}",
        '{"api-key": "azure-key-1", "x": 1}': f'{{"api-key": "{REDACTED}", "x": 1}}',
        "X-Api-Key=k5555; rest": f"X-Api-Key={REDACTED}; rest",
        "OPENAI_API_KEY=sk-env-1 set": f"OPENAI_API_KEY={REDACTED} set",
        "sent bearer eyJhbGciOi.x.y": f"sent bearer {REDACTED}",
    }
    for text, expected in cases.items():
        assert redact(text) == expected
        assert redact(expected) == expected


def test_short_placeholders_and_plain_text_are_left_alone():
    register_secret("EMPTY"[:3])
    assert redact("the API key env OPENAI_API_KEY is not set; EMP") == (
        "the API key env OPENAI_API_KEY is not set; EMP")


def test_error_text_is_one_redacted_line():
    error = RuntimeError("boom\n  Authorization: Bearer zz-secret-77")
    assert error_text(error) == f"RuntimeError: boom Authorization: Bearer {REDACTED}"
