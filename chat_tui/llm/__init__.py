"""The model-provider layer: an OpenAI-compatible streaming client and its typed deltas.

Importing this package is cheap (``openai`` is imported only when a ``ChatClient`` is built).
"""

from chat_tui.llm.client import ChatClient
from chat_tui.llm.deltas import ContentDelta, Delta, ReasoningDelta, StreamEnded, Usage
from chat_tui.llm.redaction import scrub

__all__ = [
    "ChatClient",
    "ContentDelta",
    "Delta",
    "ReasoningDelta",
    "StreamEnded",
    "Usage",
    "scrub",
]
