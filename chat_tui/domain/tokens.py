"""The one token estimate: trimming chat history, sizing chunks, batching embedding requests.

Why one: the chat side trims history to the model's window, the chunker sizes chunks, and
the embedders keep requests under the services' limits; when each counted on its own, a
chunk "of 500 tokens" could be a different size to each of them. Exact tokenizers
(tiktoken) download their vocabularies on first use and differ per model anyway, so every
reader shares this cheap, slightly pessimistic estimate: about 4 characters per token for
ASCII text, 2 for other alphabets (Cyrillic, Greek, accented text), and one token per CJK
character (Han, kana, Hangul, Yi, CJK punctuation and full-width forms).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MESSAGE_OVERHEAD_TOKENS = 4
"""Per chat message: role and the separators the chat template wraps it in."""

REPLY_PRIMING_TOKENS = 3
"""Per request: the tokens that start the assistant's reply."""

_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f"
    "\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
)


def is_cjk(char: str) -> bool:
    """Whether ``char`` is one the estimate counts as a whole token (a CJK character)."""
    return _CJK.match(char) is not None


def count_cjk(text: str) -> int:
    """How many characters of ``text`` count as a whole token each."""
    return len(_CJK.findall(text)) if not text.isascii() else 0


def char_quarters(char: str) -> int:
    """What one character costs, in quarters of a token: 1 ASCII, 2 other, 4 CJK."""
    if char.isascii():
        return 1
    return 4 if is_cjk(char) else 2


def estimate_tokens(text: str) -> int:
    """Estimate how many tokens ``text`` costs (never 0 for non-empty text).

    Args:
        text: any text.

    Returns:
        ASCII chars / 4 + other non-CJK chars / 2 + CJK chars, rounded up.
    """
    if not text:
        return 0
    ascii_chars = len(text.encode("ascii", "ignore"))
    other = len(text) - ascii_chars
    cjk = count_cjk(text) if other else 0
    quarter_units = ascii_chars + 2 * (other - cjk) + 4 * cjk
    return max(1, -(-quarter_units // 4))


def cut_to_tokens(text: str, max_tokens: int) -> str:
    """``text`` shortened so that ``estimate_tokens`` is at most ``max_tokens``."""
    if len(text) <= max_tokens or estimate_tokens(text) <= max_tokens:
        return text
    budget = max_tokens * 4
    for i, char in enumerate(text):
        budget -= char_quarters(char)
        if budget < 0:
            return text[:i]
    return text


def estimate_message_tokens(message: Mapping[str, object]) -> int:
    """Estimate the tokens of one chat message (``{"role": ..., "content": ...}``).

    Args:
        message: an OpenAI-style message; a ``name`` field counts too.

    Returns:
        The content's estimate plus ``MESSAGE_OVERHEAD_TOKENS``.
    """
    tokens = MESSAGE_OVERHEAD_TOKENS
    content = message.get("content")
    if isinstance(content, str):
        tokens += estimate_tokens(content)
    name = message.get("name")
    if isinstance(name, str):
        tokens += estimate_tokens(name)
    return tokens


def estimate_messages_tokens(messages: Iterable[Mapping[str, object]]) -> int:
    """Estimate a whole request: every message plus the reply priming."""
    return REPLY_PRIMING_TOKENS + sum(estimate_message_tokens(m) for m in messages)
