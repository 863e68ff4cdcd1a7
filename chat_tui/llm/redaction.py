"""Keeps API keys out of anything shown to a user or written to a log.

Provider error bodies sometimes echo the key ("Incorrect API key provided: sk-...")
and URLs may carry credentials, so every message the llm layer produces passes here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MASK = "***"

_KEY_LIKE = re.compile(
    r"(?:\bBearer\s+[^\s\"',;]+)"  # Authorization header values
    r"|(?:\bsk-[A-Za-z0-9_\-*.]{8,})"  # OpenAI / DeepSeek style keys
    r"|(?://[^/\s:@]+:[^/\s@]+@)"  # user:password@ in URLs
)


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Replace every known secret, and anything that looks like a key, with ``***``.

    Args:
        text: text that may contain secrets (an error message, a URL).
        secrets: the exact secrets to remove (API keys, tokens); empty ones are ignored.

    Returns:
        The text with secrets, ``sk-...`` keys and ``Bearer x`` values masked.
    """
    # Longest first, so a secret that contains another one is masked whole.
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)

    def mask(match: re.Match[str]) -> str:
        found = match.group(0)
        return f"//{MASK}@" if found.startswith("//") else MASK

    return _KEY_LIKE.sub(mask, text)
