"""The typed pieces a streamed answer is made of.

The client turns each provider chunk into these small frozen values so the chat
service and the UI never touch the ``openai`` SDK's models (or import it). The usage
report is the domain's ``Usage`` itself: what the server reported is what the answer
stores, so there is no second type to copy it into.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat_tui.domain.models import Usage


@dataclass(frozen=True)
class ContentDelta:
    """A piece of the answer text."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """A piece of the model's reasoning ("thinking"), shown folded and never sent back."""

    text: str


@dataclass(frozen=True)
class StreamEnded:
    """The answer finished normally; ``finish_reason`` is e.g. "stop" or "length"."""

    finish_reason: str | None


Delta = ContentDelta | ReasoningDelta | Usage | StreamEnded
"""Anything ``ChatClient.stream_reply`` yields, in order: reasoning and content pieces,
at most one usage report, then exactly one ``StreamEnded`` on success."""

__all__ = ["ContentDelta", "Delta", "ReasoningDelta", "StreamEnded", "Usage"]
