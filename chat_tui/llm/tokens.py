"""A fast token estimate for trimming history to the model's context window.

Exact tokenizers (tiktoken) download their vocabularies on first use and differ per
model anyway; trimming only needs a cheap, slightly pessimistic estimate:
about 4 characters per token for ASCII text, 2 for other alphabets (Cyrillic, Greek,
accented text), and one token per CJK character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MESSAGE_OVERHEAD_TOKENS = 4
"""Per message: role and the separators the chat template wraps it in."""

REPLY_PRIMING_TOKENS = 3
"""Per request: the tokens that start the assistant's reply."""

_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0003134f]"
)


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
    cjk = len(_CJK.findall(text)) if other else 0
    quarter_units = ascii_chars + 2 * (other - cjk) + 4 * cjk
    return max(1, -(-quarter_units // 4))


def estimate_message_tokens(message: Mapping[str, object]) -> int:
    """Estimate the tokens of one chat message (``{"role": ..., "content": ...}``).

    Args:
        message: an OpenAI-style message; a ``name`` field counts too.

    Returns:
        The content's estimate plus a small fixed per-message overhead.
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
