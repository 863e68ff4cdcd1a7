"""How many of a session's last messages the chat pane mounts when the session opens.

Mounting costs in proportion to what is mounted (a Markdown answer costs a widget per
block, about a millisecond each here), and a session opens only as fast as its last
page is mounted and painted. A fixed count of messages was too many when answers are
long: a page of 14 messages with answers of a few thousand characters each mounted
hundreds of widgets to show the last two. The page is therefore cut by an estimate of
its height: enough rows to fill the pane a few times over (so PageUp has something to
show before the next page comes in), and never more than the fixed count. Plain
functions of text, so they are tested without an app.

A session opens only as fast as its *last screen* is painted, though, and the page
holds three: the pane mounts and paints the messages that fill about one screen first
(``first_paint_size``), then the rest of the page above them, a screen at a time after
each frame, so no step holds the event loop for the whole page.
"""

from __future__ import annotations

from collections.abc import Sequence

from chat_tui.domain.models import Message

#: The page holds at least this many screens' worth of rows (by the estimate below).
SCREENS_AHEAD = 3
#: The first paint (and each step after it) mounts this many screens' worth of rows: a
#: margin over one, so a low estimate (a Markdown block's padding) still fills the pane
#: (measured: the estimate is within ~10% of the laid-out height for code-heavy pages).
FIRST_PAINT_SCREENS = 1.25
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
    return _filling(messages, width, height, SCREENS_AHEAD * height, most)


def first_paint_size(messages: Sequence[Message], width: int, height: int) -> int:
    """How many of the last ``messages`` fill one ``width`` x ``height`` screen, by the
    estimate with ``FIRST_PAINT_SCREENS`` of margin: what is mounted before the first
    paint (and per step after it). All of them when the size is not known yet.
    """
    return _filling(messages, width, height, int(FIRST_PAINT_SCREENS * height), len(messages))


def _filling(messages: Sequence[Message], width: int, height: int, budget: int, most: int) -> int:
    """How many of the last ``messages`` (at most ``most``) take ``budget`` rows."""
    if width <= 0 or height <= 0:
        return min(most, len(messages))
    rows = count = 0
    for message in reversed(messages):
        if count >= most or rows >= budget:
            break
        count += 1
        rows += estimated_rows(message, width)
    return count


__all__ = [
    "FIRST_PAINT_SCREENS",
    "SCREENS_AHEAD",
    "estimated_rows",
    "first_page_size",
    "first_paint_size",
]
