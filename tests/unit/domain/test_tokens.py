"""The one token estimate: chat trimming, chunk sizes and embedding batches count alike."""

from __future__ import annotations

import time

from chat_tui.domain.tokens import (
    MESSAGE_OVERHEAD_TOKENS,
    REPLY_PRIMING_TOKENS,
    count_cjk,
    cut_to_tokens,
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


def test_yi_and_hangul_jamo_count_as_cjk_like_in_the_chunker() -> None:
    assert estimate_tokens("\ua000\ua001\ua002") == 3  # Yi syllables
    assert estimate_tokens("\u1100\u1161\u11a8") == 3  # Hangul Jamo
    assert count_cjk("abc 中文 ꀀ") == 3 and count_cjk("plain ascii") == 0


def test_a_cut_text_fits_the_same_estimate_in_every_script() -> None:
    for text in ("word " * 10_000, "中文" * 10_000, "привет мир " * 10_000, "é" * 50_000):
        cut = cut_to_tokens(text, 100)
        assert estimate_tokens(cut) <= 100 and text.startswith(cut)
        assert estimate_tokens(text[: len(cut) + 1]) > 100  # nothing more would fit
    assert cut_to_tokens("short", 100) == "short"
