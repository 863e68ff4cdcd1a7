"""The "‹ 2/3 ›" line under a message that has other versions (branches).

A message has versions when an earlier question was edited and sent again, or an
answer was regenerated: the old ones are kept. This one-line widget sits under such a
message in the chat pane, says which version is shown, and switches on a click (the
left half goes to the version before, the right half to the one after). The keys
(left/right after ctrl+o) do the same through the chat screen; both end in one
handler, so this widget only posts :class:`BranchSwitch.Pressed`.

Its own module: the chat view only places it (see ``ChatView.branch_marks``).
"""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from chat_tui.domain.branches import BranchPosition


class BranchSwitch(Static):
    """Which version of a message is shown, and a click to show another.

    Args:
        message_id: the id of the message shown above it.
        position: which version that is.
        role: the message's role ("user" lines up with the user messages).
    """

    DEFAULT_CSS = """
    BranchSwitch {
        width: auto;
        height: 1;
        margin: 0 0 0 1;
        padding: 0 1;
        color: $text-muted;
    }
    BranchSwitch.-user {
        margin: 0 0 0 9;
    }
    BranchSwitch:hover {
        color: $text;
        background: $boost;
    }
    """

    class Pressed(Message):
        """The user clicked one side of the switch: ``step`` -1 (before) or 1 (after)."""

        def __init__(self, message_id: str, step: int) -> None:
            super().__init__()
            self.message_id = message_id
            self.step = step

    def __init__(self, message_id: str, position: BranchPosition, role: str) -> None:
        super().__init__(
            switch_content(position),
            classes="branch-switch -user" if role == "user" else "branch-switch",
        )
        self.message_id = message_id
        self.position = position
        self.tooltip = "Other versions of this message: click ‹ or ›, or ←/→ after ctrl+o"

    def on_click(self, event: events.Click) -> None:
        event.stop()
        step = -1 if event.x < self.size.width / 2 else 1
        self.post_message(self.Pressed(self.message_id, step))


def switch_content(position: BranchPosition) -> Content:
    """``‹ 2/3 ›``, an arrow dimmed where there is no version that way."""
    before = Content.styled("‹", "bold" if position.index > 1 else "dim")
    after = Content.styled("›", "bold" if position.index < position.count else "dim")
    return Content(" ").join([before, Content(position.label()), after])


__all__ = ["BranchSwitch", "switch_content"]
