"""Editing an earlier question and switching between versions, for the chat screen.

Editing a question and sending it again starts a new branch there; the old branch is
kept, and a message with other versions shows "‹ 2/2 ›" (see
:mod:`chat_tui.domain.branches`). This helper holds the screen's part of it: the
edit mode of the prompt (the question's text put in it, clearly marked, Esc
cancels, Enter sends it as a new version), the keys and clicks that pick a message
or another version, and redrawing the pane on the branch chosen. The storage work
runs through ``SessionService`` (in threads); the send itself is the screen's turn.

A plain object the screen holds (like ``SessionDialogs``), so the screen only wires
actions to it.
"""

from __future__ import annotations

from typing import Protocol

from textual import events
from textual.widget import Widget

from chat_tui.domain.models import Message, Session
from chat_tui.tui.host import ActionHost
from chat_tui.tui.widgets.attachments import AttachmentTray
from chat_tui.tui.widgets.chat_view import AnswerView, ChatView, UserMessage
from chat_tui.tui.widgets.message_cursor import MessageCursor
from chat_tui.tui.widgets.prompt import PromptInput

#: Shown on the prompt's border while it holds an edited question.
EDITING_TITLE = "✎ editing an earlier message: Enter sends it as a new branch · Esc cancels"
EDITING = "-editing"


class BranchHost(ActionHost, Protocol):
    """What the helper needs from the chat screen."""

    @property
    def chat_view(self) -> ChatView: ...

    @property
    def message_cursor(self) -> MessageCursor: ...

    @property
    def prompt(self) -> PromptInput: ...

    def focus_chat(self) -> None: ...

    def set_focus(
        self, widget: Widget | None, scroll_visible: bool = True, from_app_focus: bool = False
    ) -> None: ...

    async def show_history(self, session: Session) -> None: ...

    @property
    def tray(self) -> AttachmentTray: ...


class BranchEditing:
    """The edit mode and the branch switches of the chat screen.

    Args:
        host: the chat screen.
    """

    def __init__(self, host: BranchHost) -> None:
        self.host = host
        #: The question being edited (its text is in the prompt), or None.
        self.editing: Message | None = None
        #: The images the edit put on the tray (the question's own), taken off again if
        #: the edit is cancelled.
        self._carried: tuple[str, ...] = ()

    # -- edit mode

    def edit_selected(self) -> None:
        """``e`` in the chat: put the selected question in the prompt to edit it."""
        widget = self.host.message_cursor.selected
        if not isinstance(widget, UserMessage):
            self.host.notify("Select one of your messages to edit (up/down).", severity="warning")
            return
        self.start(widget.message)

    def start(self, message: Message) -> None:
        """Enter the edit mode with ``message``'s text in the prompt."""
        if self.host.guard_streaming():
            return
        host = self.host
        self.editing = message
        prompt = host.prompt
        prompt.text = message.content
        prompt.move_cursor(prompt.document.end)
        prompt.border_title = EDITING_TITLE
        prompt.add_class(EDITING)
        # The new version keeps the question's images unless the user takes them off.
        pending = {a.digest for a in host.tray.pending}
        self._carried = tuple(a.digest for a in message.attachments if a.digest not in pending)
        host.tray.add(message.attachments)
        host.message_cursor.clear()
        for widget in host.message_cursor.messages():
            widget.set_class(widget is host.message_cursor.widget_of(message.id), EDITING)
        # set_focus now, not focus() (which waits a turn): keys typed right after e are
        # already queued and must edit the text, not reach the chat.
        host.set_focus(prompt)

    def take(self) -> str | None:
        """The id of the question being edited, leaving the edit mode (Enter sent it)."""
        editing = self.editing
        self._leave()
        return editing.id if editing is not None else None

    def cancel(self) -> bool:
        """Esc in the prompt: leave the edit mode, the prompt emptied. False if not editing."""
        if self.editing is None:
            return False
        carried = self._carried
        self._leave()
        self.host.tray.discard(carried)
        self.host.prompt.clear()
        self.host.notify("Edit cancelled.", timeout=2)
        return True

    def forget(self) -> None:
        """Another session opened: leave the edit mode, the text kept as a new message."""
        if self.editing is not None:
            self._leave()

    def _leave(self) -> None:
        self.editing = None
        self._carried = ()
        prompt = self.host.prompt
        prompt.border_title = None
        prompt.remove_class(EDITING)
        for widget in self.host.chat_view.query("." + EDITING):
            if widget is not prompt:
                widget.remove_class(EDITING)

    # -- mouse

    def clicked(self, event: events.Click) -> None:
        """A click in the chat selects the message under it; a double click on a
        question edits it."""
        widget = self._message_widget(event.widget)
        if widget is None:
            return
        host = self.host
        host.focus_chat()
        host.message_cursor.select(widget)
        if event.chain == 2 and isinstance(widget, UserMessage):
            self.start(widget.message)

    def _message_widget(self, widget: Widget | None) -> Widget | None:
        chat = self.host.chat_view
        while widget is not None and widget is not chat:
            if isinstance(widget, UserMessage | AnswerView) and widget.parent is chat:
                return widget
            parent = widget.parent
            widget = parent if isinstance(parent, Widget) else None
        return None

    # -- versions

    async def switch_selected(self, step: int) -> None:
        """left/right in the chat: show another version of the selected message."""
        widget = self.host.message_cursor.selected
        message = widget.message if isinstance(widget, UserMessage | AnswerView) else None
        if message is None:
            self.host.notify("Select a message first (up/down).", severity="warning")
            return
        await self.switch(message.id, step)

    async def switch(self, message_id: str, step: int) -> None:
        """Show the version ``step`` away from a message, then select it again."""
        host = self.host
        session = host.session
        if session is None or host.guard_streaming():
            return
        before = await host.services.sessions.conversation(session.id)
        depth = next((n for n, m in enumerate(before.shown) if m.id == message_id), None)
        position = before.tree.position(message_id)
        if position.count < 2:
            host.notify("This message has no other version.", timeout=3)
            return
        fresh = await host.services.sessions.switch_branch(session.id, message_id, step)
        if fresh is None:
            where = "first" if step < 0 else "last"
            host.notify(f"This is the {where} version ({position.label()}).", timeout=3)
            return
        if host.session is None or host.session.id != session.id:
            return  # another session was opened meanwhile
        self.cancel()  # the question being edited may be on the branch left
        host.session = fresh
        await host.show_history(fresh)
        after = await host.services.sessions.conversation(session.id)
        if depth is not None and depth < len(after.shown):
            await self._reselect(after.shown[depth].id)

    async def _reselect(self, message_id: str) -> None:
        """Select the message after a redraw, bringing in earlier pages if needed."""
        chat = self.host.chat_view
        cursor = self.host.message_cursor
        widget = cursor.widget_of(message_id)
        while widget is None and chat.hidden_count:
            await chat.show_earlier()
            widget = cursor.widget_of(message_id)
        if widget is not None:
            cursor.select(widget)


async def drop_from(chat: ChatView, message_id: str) -> None:
    """Take the question being resent, and everything under it, off the pane.

    The new version and its answer are drawn in their place as the turn goes; the old
    ones stay stored (a redraw after the turn shows the "‹ 2/2 ›" line).
    """
    children = list(chat.children)
    for index, child in enumerate(children):
        if isinstance(child, UserMessage) and child.message.id == message_id:
            await chat.remove_children(children[index:])
            return


__all__ = ["EDITING_TITLE", "BranchEditing", "BranchHost", "drop_from"]
