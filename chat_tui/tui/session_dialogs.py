"""The chat screen's session dialogs: role, rename, delete, clear (ctrl+r, F2, ctrl+d, ctrl+l).

A plain helper the chat screen holds (composition, not a mixin): the screen's actions
start a worker and call it. What it needs from the screen is the small
:class:`DialogsHost` protocol, so it depends on neither the screen nor the App.
"""

from __future__ import annotations

from typing import Protocol

from chat_tui.domain.models import Session
from chat_tui.domain.text import clean_line
from chat_tui.errors import ChatTuiError
from chat_tui.tui.host import ActionHost
from chat_tui.tui.screens.dialogs import ConfirmScreen, PickerScreen, TextPromptScreen


class DialogsHost(ActionHost, Protocol):
    """What the dialogs need from the screen that opens them."""

    role_name: str

    def refresh_sidebar(self) -> None: ...

    async def open_session(self, session: Session, *, defer_history: bool = False) -> None: ...

    async def open_role(self, role: str, *, defer_history: bool = False) -> None: ...


class SessionDialogs:
    """Each method asks in a dialog, then acts on the session that was open when asked."""

    def __init__(self, host: DialogsHost) -> None:
        self.host = host

    async def pick_role(self) -> None:
        host = self.host
        if host.guard_streaming():
            return
        items = [(role.name, role.description) for role in host.services.roles]
        choice = await host.app.push_screen_wait(
            PickerScreen("Choose a role", items, host.role_name, id="role-picker")
        )
        if choice and not host.guard_streaming():
            await host.open_role(choice)

    async def rename_session(self) -> None:
        host = self.host
        if host.session is None:
            return
        target = host.session
        title = await host.app.push_screen_wait(TextPromptScreen("Rename session", target.title))
        if not title:
            return
        try:
            renamed = await host.services.sessions.rename(target, title)
        except ChatTuiError as error:
            host.notify(str(error), severity="error")
            return
        if host.session is not None and host.session.id == renamed.id:
            host.session = renamed
        host.refresh_sidebar()
        host.refresh_status()

    async def delete_session(self) -> None:
        host = self.host
        target = host.session
        if target is None or host.guard_streaming():
            return
        confirmed = await host.app.push_screen_wait(
            ConfirmScreen(f"Delete session “{clean_line(target.title)}” and its history?", "Delete")
        )
        if not confirmed or host.guard_streaming():
            return
        try:
            await host.services.sessions.delete(target.id)
        except ChatTuiError as error:
            host.notify(str(error), severity="error")
            return
        if host.session is not None and host.session.id == target.id:
            host.session = None
            await host.open_role(target.role)
        else:
            host.refresh_sidebar()
        host.notify("Session deleted.", timeout=2)

    async def clear_session(self) -> None:
        host = self.host
        target = host.session
        if target is None or host.guard_streaming():
            return
        confirmed = await host.app.push_screen_wait(
            ConfirmScreen(f"Clear all messages of “{clean_line(target.title)}”?", "Clear")
        )
        if not confirmed or host.guard_streaming():
            return
        try:
            session = await host.services.sessions.clear(target.id)
        except ChatTuiError as error:
            host.notify(str(error), severity="error")
            return
        if session is not None and host.session is not None and host.session.id == target.id:
            await host.open_session(session)


__all__ = ["DialogsHost", "SessionDialogs"]
