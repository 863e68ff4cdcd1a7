"""How many of a session's last messages the chat pane mounts when the session opens.

Mounting costs in proportion to what is mounted (a Markdown answer costs a widget per
block, about a millisecond each here), and a session opens only as fast as its last
page is mounted and painted. A fixed count of messages was too many when answers are
long: a page of 14 messages with answers of a few thousand characters each mounted
hundreds of widgets to show the last two. The page is therefore cut by an estimate of
its height: enough rows to fill the pane a few times over (so PageUp has something to
show before the next page comes in), and never more than the fixed count. Plain
functions of text, so they are tested without an app.
"""

from __future__ import annotations

from collections.abc import Sequence

from chat_tui.domain.models import Message

#: The page holds at least this many screens' worth of rows (by the estimate below).
SCREENS_AHEAD = 3
#: Rows around a message's text: the margin above it, and its status line or padding.
MESSAGE_CHROME_ROWS = 2


def estimated_rows(message: Message, width: int) -> int:
    """About how many rows ``message`` takes at ``width`` columns (wrapped line by line)."""
    width = max(1, width)
    rows = MESSAGE_CHROME_ROWS
    for line in message.content.splitlines() or [""]:
        rows += max(1, -(-len(line) // width))
    return rows


def first_page_size(messages: Sequence[Message], width: int, height: int, most: int) -> int:
    """How many of the last ``messages`` to mount so a ``width`` x ``height`` pane is full.

    Returns at most ``most``; with no known size (a pane not laid out yet), ``most``.
    """
    if width <= 0 or height <= 0:
        return min(most, len(messages))
    budget = SCREENS_AHEAD * height
    rows = count = 0
    for message in reversed(messages):
        if count >= most or rows >= budget:
            break
        count += 1
        rows += estimated_rows(message, width)
    return count


__all__ = ["SCREENS_AHEAD", "estimated_rows", "first_page_size"]
