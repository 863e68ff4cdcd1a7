"""Secret scrubbing: keys and key-shaped text never reach a message or a log."""

from __future__ import annotations

from chat_tui.llm.redaction import scrub


def test_scrub_masks_known_secrets_and_key_shaped_text() -> None:
    assert scrub("key sk-test-SECRET123 rejected", []) == "key *** rejected"
    assert scrub("token jina_abc123XYZ", ["jina_abc123XYZ"]) == "token ***"
    assert scrub("Authorization: Bearer abc.def", []) == "Authorization: ***"
    assert scrub("http://user:pw@host:1/v1", []) == "http://***@host:1/v1"
    assert scrub("nothing secret, a desk-top and the bearer of news", ["", "ab"]) == (
        "nothing secret, a desk-top and the bearer of news"
    )
