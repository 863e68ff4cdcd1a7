"""What the chat screen's helpers need from it: the turn, answer sources, session dialogs.

Protocols, so the helpers depend on neither the chat screen nor the App (both import
them). Each helper's own protocol extends these with what only it uses.
"""

from __future__ import annotations

from typing import Any, Protocol

from textual.app import App
from textual.notifications import SeverityLevel

from chat_tui.domain.models import Session
from chat_tui.services.bootstrap import AppServices


class ScreenHost(Protocol):
    """The services, the open session, and a way to say something."""

    services: AppServices
    session: Session | None

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None: ...


class ActionHost(ScreenHost, Protocol):
    """A screen whose actions open dialogs and change what the status line shows."""

    @property
    def app(self) -> App[Any]: ...

    def guard_streaming(self) -> bool: ...

    def refresh_status(self) -> None: ...


__all__ = ["ActionHost", "ScreenHost"]
