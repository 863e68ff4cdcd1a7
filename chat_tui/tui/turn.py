"""One turn's service events, turned into widget updates.

The chat service reports a turn as events (user turn saved, retrieval started and
finished, reasoning and content pieces, answer saved); this is the one place that
decides what each of them changes on screen: the answer view, the status line,
the sidebar and notifications.
"""

from __future__ import annotations

from typing import Protocol

from textual.notifications import SeverityLevel

from chat_tui.domain.models import Session
from chat_tui.domain.prompt import refused_as_too_long
from chat_tui.services.bootstrap import AppServices
from chat_tui.services.chat import (
    AnswerSaved,
    ContentReceived,
    ReasoningReceived,
    RetrievalFinished,
    RetrievalStarted,
    ServiceEvent,
    UserTurnSaved,
)
from chat_tui.tui.widgets.chat_view import RETRY_FEWER_HINT, AnswerView, ChatView
from chat_tui.tui.widgets.status import StatusLine


class TurnHost(Protocol):
    """What a turn's display needs from the App: attributes and widgets, no more.

    A protocol, so this module depends on it and not on the App (which imports this).
    """

    services: AppServices
    session: Session | None

    @property
    def chat_view(self) -> ChatView: ...

    @property
    def status(self) -> StatusLine: ...

    def refresh_sidebar(self) -> None: ...

    def refresh_status(self) -> None: ...

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None: ...


class TurnDisplay:
    """The event sink of one turn (see ``ChatService.send`` / ``regenerate``).

    Args:
        app: the running App (anything with the ``TurnHost`` attributes).
        session_id: the turn's session.
        view: the answer view already mounted (regenerate), or None until the user
            turn is saved.
    """

    def __init__(self, app: TurnHost, session_id: str, view: AnswerView | None) -> None:
        self.app = app
        self.session_id = session_id
        self.view = view

    async def __call__(self, event: ServiceEvent) -> None:
        app = self.app
        if isinstance(event, UserTurnSaved):
            # A draft session gets its stored id with the first message.
            self.session_id = event.session.id
            app.session = event.session
            await app.chat_view.add_user(event.message)
            self.view = await app.chat_view.start_answer()
            app.refresh_sidebar()
            app.refresh_status()
        elif isinstance(event, RetrievalStarted):
            app.status.step = f"searching the knowledge base “{event.knowledge_base}”…"
        elif isinstance(event, RetrievalFinished):
            app.status.step = event.summary()
            if self.view is not None:
                self.view.show_retrieval(event.summary(), warning=bool(event.notice))
                self.view.show_sources(event.citations)
            if event.notice:
                app.notify(event.notice, severity="warning", timeout=5)
        elif isinstance(event, ReasoningReceived):
            if self.view is not None:
                self.view.add_reasoning(event.text)
        elif isinstance(event, ContentReceived):
            if self.view is not None:
                self.view.add_content(event.text)
        elif isinstance(event, AnswerSaved):
            if self.view is not None:
                await self.view.finish(event.message)
            app.status.step = ""
            fresh = await app.services.sessions.get(self.session_id)
            current = app.session
            if fresh is not None and current is not None and current.id == self.session_id:
                app.session = fresh
            app.refresh_sidebar()
            app.refresh_status()
            if event.message.error:
                # A context-length refusal has a one-key fix: the notification names it.
                hint = f" ({RETRY_FEWER_HINT})" if refused_as_too_long(event.message) else ""
                app.notify(event.message.error + hint, severity="error", timeout=6)


__all__ = ["TurnDisplay", "TurnHost"]
