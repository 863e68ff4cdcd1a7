"""The token estimate used for context trimming, and secret scrubbing."""

from __future__ import annotations

import time

from chat_tui.llm.redaction import scrub
from chat_tui.llm.tokens import (
    MESSAGE_OVERHEAD_TOKENS,
    REPLY_PRIMING_TOKENS,
    estimate_message_tokens,
    estimate_messages_tokens,
    estimate_tokens,
)


def test_latin_text_is_about_four_characters_per_token() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a") == 1
    assert estimate_tokens("abcd" * 25) == 25
    assert estimate_tokens("The quick brown fox jumps over the lazy dog.") == 11


def test_cjk_characters_count_one_token_each_and_other_scripts_two_chars() -> None:
    assert estimate_tokens("你好世界") == 4
    assert estimate_tokens("こんにちは") == 5
    assert estimate_tokens("안녕하세요") == 5
    assert estimate_tokens("привет") == 3
    assert estimate_tokens("中文 and English") == 2 + 3  # 2 CJK + 12 ASCII chars / 4


def test_message_estimates_add_a_fixed_overhead() -> None:
    message = {"role": "user", "content": "abcd" * 10}
    assert estimate_message_tokens(message) == 10 + MESSAGE_OVERHEAD_TOKENS
    assert (
        estimate_message_tokens({"role": "assistant", "content": None}) == MESSAGE_OVERHEAD_TOKENS
    )
    assert (
        estimate_messages_tokens([message, message])
        == 2 * (10 + MESSAGE_OVERHEAD_TOKENS) + REPLY_PRIMING_TOKENS
    )


def test_estimate_is_fast_on_long_text() -> None:
    text = "Some English prose with code `x = 1` and 一些中文. " * 20_000
    started = time.perf_counter()
    tokens = estimate_tokens(text)
    assert time.perf_counter() - started < 0.5
    assert 200_000 < tokens < 600_000


def test_scrub_masks_known_secrets_and_key_shaped_text() -> None:
    assert scrub("key sk-test-SECRET123 rejected", []) == "key *** rejected"
    assert scrub("token jina_abc123XYZ", ["jina_abc123XYZ"]) == "token ***"
    assert scrub("Authorization: Bearer abc.def", []) == "Authorization: ***"
    assert scrub("http://user:pw@host:1/v1", []) == "http://***@host:1/v1"
    assert scrub("nothing secret, a desk-top and the bearer of news", ["", "ab"]) == (
        "nothing secret, a desk-top and the bearer of news"
    )
