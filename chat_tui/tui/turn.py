"""One turn: sending or regenerating it, and its service events as widget updates.

``play_turn`` is the body of the chat screen's turn worker. The chat service reports
a turn as events (user turn saved, retrieval started and finished, reasoning and
content pieces, answer saved); ``TurnDisplay`` is the one place that decides what
each of them changes on screen: the answer view, the status line, the sidebar and
notifications."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from chat_tui.domain.attachments import Attachment
from chat_tui.domain.models import Session
from chat_tui.domain.prompt import refused_as_too_long
from chat_tui.errors import ChatTuiError
from chat_tui.services.chat import (
    AnswerSaved,
    ContentReceived,
    ReasoningReceived,
    RetrievalFinished,
    RetrievalStarted,
    ServiceEvent,
    UserTurnSaved,
)
from chat_tui.tui.attach_images import ImageAttacher
from chat_tui.tui.branch_editing import drop_from
from chat_tui.tui.host import ScreenHost
from chat_tui.tui.pacing import LoopYielder
from chat_tui.tui.widgets.chat_view import RETRY_FEWER_HINT, AnswerView, ChatView
from chat_tui.tui.widgets.status import StatusLine


class TurnHost(ScreenHost, Protocol):
    """What a turn needs from the screen that shows it: attributes and widgets, no more.

    A protocol, so this module depends on it and not on the chat screen (which
    imports this).
    """

    @property
    def chat_view(self) -> ChatView: ...

    @property
    def status(self) -> StatusLine: ...

    def refresh_sidebar(self) -> None: ...

    def refresh_status(self) -> None: ...

    async def history_shown(self) -> None: ...

    async def show_history(self, session: Session) -> None: ...

    def restore_prompt(self, text: str) -> None: ...

    @property
    def images(self) -> ImageAttacher: ...


class TurnDisplay:
    """The event sink of one turn (see ``ChatService.send`` / ``regenerate``).

    Args:
        app: the chat screen (anything with the ``TurnHost`` attributes).
        session_id: the turn's session.
        view: the answer view already mounted (regenerate), or None until the user
            turn is saved.
    """

    def __init__(self, app: TurnHost, session_id: str, view: AnswerView | None) -> None:
        self.app = app
        self.session_id = session_id
        self.view = view
        self._yielder = LoopYielder()

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
            # Buffered deltas come without a suspension: the loop gets its turns here.
            await self._yielder.tick()
        elif isinstance(event, ContentReceived):
            if self.view is not None:
                self.view.add_content(event.text)
            await self._yielder.tick()
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


async def play_turn(
    host: TurnHost,
    text: str | None,
    edit_of: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> None:
    """Send ``text`` (or regenerate when None) and stream the answer into the pane.

    ``edit_of``: the id of the earlier question ``text`` is a new version of (a new
    branch; see ``ChatService.send``).

    The body of the chat screen's exclusive ``llm`` worker: cancelling that worker
    (Esc) cancels this. ``attachments`` go with ``text``; when the text goes back to
    the prompt unsent, they go back on the tray.
    """
    try:
        await host.history_shown()  # a turn sent during start-up lands after the history
    except asyncio.CancelledError:
        # Stopped before anything was handed to the service: the text goes back.
        if text is not None:
            host.restore_prompt(text)
            host.images.restore(attachments)
        raise
    if host.session is None:
        if text is not None:
            host.restore_prompt(text)
            host.images.restore(attachments)
        return
    session_id = host.session.id
    chat = host.chat_view
    view: AnswerView | None = None
    # A regenerate or an edit makes a new version beside the old one (both stay
    # stored): once the turn ends, the pane is redrawn on the branch now shown, with
    # its "‹ 2/2 ›" lines (and with the old answers, if no new one was stored).
    redraw = text is None or edit_of is not None
    if text is None:
        await chat.remove_trailing_answers()
        view = await chat.start_answer()
    elif edit_of is not None:
        await drop_from(chat, edit_of)

    display = TurnDisplay(host, session_id, view)
    try:
        if text is None:
            await host.services.chat.regenerate(session_id, display)
        else:
            await host.services.chat.send(
                session_id, text, display, edit_of=edit_of, attachments=attachments
            )
    except ChatTuiError as error:
        if text is not None and display.view is None:
            # The user's turn was not saved (read-only or full disk, session gone):
            # what they typed stays in the prompt, the reason is one line.
            host.restore_prompt(text)
            host.images.restore(attachments)
            host.notify(str(error).splitlines()[0] if str(error) else "", severity="error")
            return
        if display.view is not None and display.view.message is None:
            await display.view.remove()
            display.view = None
        if text is None:
            # A refused regenerate left the stored answers as they were: they are
            # shown again (below); say why in a notification the redraw cannot wipe.
            host.notify(str(error), severity="error", timeout=8)
        else:
            await chat.add_notice(str(error), "error")
    finally:
        view = display.view
        host.status.step = ""
        if view is not None and view.message is None and view.is_mounted:
            # Cancelled or failed before an answer was stored: don't leave a spinner.
            view.abandon()
        if redraw and host.session and host.session.id == session_id:
            # Inside this worker, so no new turn can start while the pane is redrawn.
            with contextlib.suppress(Exception):
                await host.show_history(host.session)


__all__ = ["TurnDisplay", "TurnHost", "play_turn"]
