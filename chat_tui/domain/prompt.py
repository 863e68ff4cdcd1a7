"""Building what is sent to the model: system prompt, trimmed history, context block.

The history is trimmed by a token budget, not by a count of messages: the newest
turns are kept, oldest dropped first, and the question itself is always sent.
Reasoning ("thinking") text is never sent back.

The history given is one branch of the conversation, the one shown (see
:mod:`chat_tui.domain.branches`): other versions of a question or an answer are
never sent.

Roles always alternate (many local chat templates reject anything else). The
history is read as exchanges, a user message and the answers stored after it:

- an exchange whose answers have no text (stopped before the first byte, failed,
  cut off by a crash before any text) is an unanswered question and is left out;
- an exchange with a partial answer (stopped, interrupted, failed mid-stream) is
  sent with that partial text as the assistant turn;
- with several attempts stored one after the other (regenerate before branches
  kept them so), the last complete one is sent, else the last one with text.

When the provider refuses a request as too long for its context window, the retry
sends fewer earlier turns (``fewer_earlier``): the oldest half of the exchanges the
refused request carried is dropped, again on each refusal, until only the question
is left (``max_earlier`` caps what ``build_messages`` keeps).

A user turn with images attached is sent as a content list, its text first, then
one ``image_url`` part per image (a ``data:`` URL the caller resolves); an image
whose file is gone is named in a note after the text instead, so the turn is still
sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chat_tui.domain.attachments import IMAGE_TOKENS, Attachment, display_name
from chat_tui.domain.models import Message, MessageStatus
from chat_tui.domain.tokens import MESSAGE_OVERHEAD_TOKENS

TokenCounter = Callable[[str], int]
#: Turns an attachment into a ``data:`` URL, or None when its file is gone.
ImageResolver = Callable[[Attachment], str | None]


def title_from(text: str, limit: int = 48) -> str:
    """A session title from the first user message: its first non-blank line, shortened."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return "New chat"


def context_budget(context_window: int, answer_tokens: int, configured: int = 0) -> int:
    """Tokens available for the prompt: the configured budget, else the window less the answer."""
    if configured > 0:
        return configured
    return max(256, context_window - answer_tokens)


#: The ``error_kind`` of an answer the provider refused as too long for its window.
CONTEXT_LENGTH = "context_length"


def refused_as_too_long(message: Message) -> bool:
    """Whether ``message`` is an answer that failed because the context was too long."""
    return message.status is MessageStatus.FAILED and message.error_kind == CONTEXT_LENGTH


def fewer_earlier(sent: int) -> int:
    """How many earlier messages a retry keeps after a request with ``sent`` was refused.

    The oldest half of the exchanges (user + answer pairs) is dropped, rounding the
    dropped half up, so every retry sends strictly fewer and the last one sends only
    the question.
    """
    exchanges = max(0, sent) // 2
    return (exchanges // 2) * 2


def _exchanges(history: Sequence[Message]) -> list[Message]:
    """The history as alternating user/assistant turns (see the module docstring)."""
    groups: list[tuple[Message | None, list[Message]]] = []
    for message in history:
        if message.role == "user":
            groups.append((message, []))
        elif message.role == "assistant":
            if not groups:
                groups.append((None, []))
            groups[-1][1].append(message)
    turns: list[Message] = []
    for index, (user, answers) in enumerate(groups):
        with_text = [a for a in answers if a.content.strip()]
        complete = [a for a in with_text if a.status is MessageStatus.COMPLETE]
        chosen = complete or with_text
        answer = chosen[-1] if chosen else None
        is_question = index == len(groups) - 1 and answer is None
        if user is None or not user.content.strip():
            continue  # an answer to nothing, or an empty question: nothing to send
        if answer is None and not is_question:
            continue  # unanswered: left out, so two user turns never follow each other
        turns.append(user)
        if answer is not None:
            turns.append(answer)
    return turns


def sendable_turns(history: Sequence[Message]) -> list[Message]:
    """The turns of ``history`` a request may carry, alternating (see the module docstring)."""
    return _exchanges(history)


def with_context(question: str, context_block: str | None) -> str:
    """The final user turn: the retrieved context block (if any) above the question."""
    if not context_block:
        return question
    return f"{context_block}\n\nQuestion: {question}"


def missing_images_note(missing: Sequence[Attachment]) -> str:
    """The note sent in place of images whose files are gone."""
    names = ", ".join(display_name(a.name) for a in missing)
    return f"[Attached image not available any more: {names}]"


def message_content(
    message: Message, text: str, images: ImageResolver | None
) -> str | list[dict[str, Any]]:
    """What is sent as a turn's ``content``: ``text``, or text and image parts."""
    if message.role != "user" or not message.attachments or images is None:
        return text
    parts: list[dict[str, Any]] = []
    missing: list[Attachment] = []
    for attachment in message.attachments:
        url = images(attachment)
        if url is None:
            missing.append(attachment)
        else:
            parts.append({"type": "image_url", "image_url": {"url": url}})
    if missing:
        text = f"{text}\n\n{missing_images_note(missing)}"
    if not parts:
        return text
    return [{"type": "text", "text": text}, *parts]


def _cost(message: Message, text: str, count_tokens: TokenCounter) -> int:
    images = len(message.attachments) if message.role == "user" else 0
    return count_tokens(text) + MESSAGE_OVERHEAD_TOKENS + images * IMAGE_TOKENS


def build_messages(
    system_prompt: str,
    history: Sequence[Message],
    *,
    budget: int,
    count_tokens: TokenCounter,
    context_block: str | None = None,
    max_earlier: int | None = None,
    images: ImageResolver | None = None,
) -> list[dict[str, Any]]:
    """The ``messages`` list for a chat-completions request.

    Args:
        system_prompt: the role's system prompt.
        history: the session's messages, oldest first; the last one is the question.
        budget: token budget for everything sent.
        count_tokens: estimates tokens of a text.
        context_block: retrieved passages, already formatted and delimited.
        max_earlier: at most this many messages before the question (None: as many
            as the budget holds); used to retry a request refused as too long.
        images: resolves attached images to ``data:`` URLs (None: text only).

    Returns:
        A system message, then as many of the most recent turns as fit, ending with
        the question (with the context block above it).
    """
    sendable = _exchanges(history)
    system = {"role": "system", "content": system_prompt}
    used = count_tokens(system_prompt) + MESSAGE_OVERHEAD_TOKENS
    if not sendable:
        return [system]
    *earlier, last = sendable
    last_content = (
        with_context(last.content, context_block) if last.role == "user" else last.content
    )
    used += _cost(last, last_content, count_tokens)
    kept: list[dict[str, Any]] = []
    for message in reversed(earlier):
        if max_earlier is not None and len(kept) >= max_earlier:
            break
        cost = _cost(message, message.content, count_tokens)
        if used + cost > budget:
            break
        used += cost
        kept.append(
            {"role": message.role, "content": message_content(message, message.content, images)}
        )
    kept.reverse()
    # Some chat templates insist that turns alternate starting with the user.
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    final = message_content(last, last_content, images)
    return [system, *kept, {"role": last.role, "content": final}]
