"""Selecting messages in the chat pane from the keyboard, and copying them.

Kept apart from ``ChatView`` (which is about showing and streaming): the cursor only
looks at the pane's children, marks one with the ``-selected`` class and scrolls it
into view. The App routes ctrl+o, up/down, y and c here while the pane has focus.
"""

from __future__ import annotations

import re

from textual.widget import Widget

from chat_tui.tui.widgets.chat_view import AnswerView, ChatView, UserMessage

SELECTED = "-selected"
#: A fenced code block: an opening fence (``` or ~~~, 3+), its body, the same fence.
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)


def code_blocks(markdown: str) -> list[str]:
    """The bodies of the fenced code blocks in ``markdown``, in order."""
    return [match.group("body") for match in FENCE.finditer(markdown)]


def message_text(widget: Widget) -> str:
    """The stored text of a message widget ('' while an answer has none yet)."""
    if isinstance(widget, UserMessage):
        return widget.message.content
    if isinstance(widget, AnswerView):
        if widget.message is not None:
            return widget.message.content
        return widget.streamed_text
    return ""


class MessageCursor:
    """Which message of a ``ChatView`` is selected."""

    def __init__(self, view: ChatView) -> None:
        self.view = view
        self._code_index = -1

    def messages(self) -> list[Widget]:
        return [c for c in self.view.children if isinstance(c, UserMessage | AnswerView)]

    @property
    def selected(self) -> Widget | None:
        for widget in self.messages():
            if widget.has_class(SELECTED):
                return widget
        return None

    def move(self, step: int) -> Widget | None:
        """Select the message ``step`` away (from the last one when none is selected)."""
        messages = self.messages()
        if not messages:
            return None
        current = self.selected
        if current is None:
            index = len(messages) - 1 if step < 0 else len(messages) - 1
        else:
            index = max(0, min(len(messages) - 1, messages.index(current) + step))
            current.remove_class(SELECTED)
        target = messages[index]
        target.add_class(SELECTED)
        self._code_index = -1
        self.view.scroll_to_widget(target, animate=False, top=target.outer_size.height > 0)
        return target

    def select(self, widget: Widget, *, scroll: bool = True) -> None:
        """Select ``widget`` (a click, or the same message after a redraw).

        ``scroll``: bring it into view (a search result is already placed at the top).
        """
        self.clear()
        widget.add_class(SELECTED)
        self._code_index = -1
        if scroll:
            self.view.scroll_to_widget(widget, animate=False, top=widget.outer_size.height > 0)

    def widget_of(self, message_id: str) -> Widget | None:
        """The mounted widget showing the message with this id."""
        for widget in self.messages():
            message = widget.message if isinstance(widget, UserMessage | AnswerView) else None
            if message is not None and message.id == message_id:
                return widget
        return None

    def clear(self) -> None:
        for widget in self.messages():
            widget.remove_class(SELECTED)

    def next_code_block(self) -> tuple[str, int, int] | None:
        """The next code block of the selected message: (code, number, how many)."""
        widget = self.selected
        if widget is None:
            return None
        blocks = code_blocks(message_text(widget))
        if not blocks:
            return None
        self._code_index = (self._code_index + 1) % len(blocks)
        return blocks[self._code_index], self._code_index + 1, len(blocks)
