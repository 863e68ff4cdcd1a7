"""The chat screen: sessions sidebar, chat pane, prompt and status line, and their actions.

The screen holds which role and session are open, runs each turn in an exclusive
worker and owns every chat action (the bindings of ``commands.ACTIONS`` that are not
app-wide). The App around it stays small: services, theme, keymap, help and quit.
Provider, model and knowledge-base choices, and the session dialogs (role picker,
rename, delete, clear) are helpers it holds
(:class:`~chat_tui.tui.answer_sources.AnswerSources`,
:class:`~chat_tui.tui.session_dialogs.SessionDialogs`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from chat_tui.config import missing_key_message
from chat_tui.domain.attachments import Attachment
from chat_tui.domain.models import Session
from chat_tui.domain.text import clean_line
from chat_tui.errors import ChatTuiError
from chat_tui.services import bootstrap
from chat_tui.services.bootstrap import AppServices
from chat_tui.tui.answer_sources import AnswerSources
from chat_tui.tui.attach_images import ImageAttacher
from chat_tui.tui.branch_editing import BranchEditing
from chat_tui.tui.commands import ACTION_CONTEXT, chat_bindings
from chat_tui.tui.messages import ImagePathPasted, PromptSubmitted, SessionSelected
from chat_tui.tui.session_dialogs import SessionDialogs
from chat_tui.tui.state_keeper import StateKeeper
from chat_tui.tui.turn import play_turn
from chat_tui.tui.widgets.attachments import AttachmentTray
from chat_tui.tui.widgets.branch_switch import BranchSwitch
from chat_tui.tui.widgets.chat_view import SMALL_BACKLOG, AnswerView, ChatView, UserMessage
from chat_tui.tui.widgets.message_cursor import MessageCursor, message_text
from chat_tui.tui.widgets.prompt import PromptHistory, PromptInput, key_set
from chat_tui.tui.widgets.sidebar import SessionSidebar
from chat_tui.tui.widgets.status import StatusLine

#: How often the screen asks whether another process changed the history (issue 7.1).
EXTERNAL_CHECK_SECONDS = 2.0
CHAT_KEYS_HINT = "chat: ↑/↓ select · e edit · ←/→ versions · y copy · c code · Esc back"
#: Worker groups whose unexpected errors become a notification, not a crash.
REPORTED_GROUPS = frozenset({"llm", "dialog", "setup", "sidebar", "session-settings"})
# The dialogs (search, image preview, setup, export) are imported where they open: the
# first frame needs none of them, and start-up has a 400 ms budget.


class ChatScreen(Screen[None]):
    """The main screen: one role's sessions, the open session, the prompt.

    Args:
        services: what the screen works with (sessions, chat, settings).
        state_keeper: remembers the prompt history and the provider and model chosen.
        check_setup: offer the setup dialog when the provider has no key.
    """

    BINDINGS: ClassVar[list[BindingType]] = [*chat_bindings()]

    def __init__(
        self, services: AppServices, state_keeper: StateKeeper, *, check_setup: bool = True
    ) -> None:
        super().__init__(id="chat-screen")
        self.services = services
        self.state_keeper = state_keeper
        self.check_setup = check_setup
        self.role_name = services.settings.default_role
        self.session: Session | None = None
        self.sources = AnswerSources(self)
        self.dialogs = SessionDialogs(self)
        self.branching = BranchEditing(self)
        self.images = ImageAttacher(self)
        #: Set by the App once the remembered choices are applied; start-up waits for it,
        #: so the status line and the prompt history show them from the first frame.
        self.choices_applied = asyncio.Event()
        # The session's messages are shown under this lock; the event is clear while the
        # first session's history is still on its way (see ``on_mount``).
        self._history_lock = asyncio.Lock()
        self._gauge_requests = 0
        #: Which session the gauge on the status line counts (None: no gauge shown).
        self._gauge_session: str | None = None
        self._history_shown = asyncio.Event()
        self._history_shown.set()
        self._sidebar_requests = 0
        self._checking_external = False
        self._message_cursor: MessageCursor | None = None
        #: Set once the turn in progress has stored its answer (``TurnDisplay``); what
        #: is left of the turn is tidying up, and a question sent then waits for it.
        self.answer_saved = False
        self._after_turn: tuple[str, tuple[Attachment, ...]] | None = None

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """The App's notification (sanitized there); never markup unless asked."""
        self.app.notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a dialog is open, none of the screen's actions act.

        Keys can't reach them then (a modal ends the binding chain), but palette
        entries run through here too: a session that an open dialog is about to delete
        must not get an answer started meanwhile.
        """
        if not self.is_active:
            return False
        context = ACTION_CONTEXT.get(action)
        if context is not None:
            # Keys that mean something only in the prompt or in the chat pane (up, y,
            # pageup...): elsewhere the binding stands aside and the key goes on.
            wanted = PromptInput if context == "prompt" else ChatView
            return isinstance(self.focused, wanted)
        if action == "switch_role" and parameters:
            # alt+N from an ESC-prefix terminal arrives as a character (see commands.py):
            # with no role N, let it type.
            number = parameters[0]
            return isinstance(number, int) and 1 <= number <= len(self.roles)
        return True

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield SessionSidebar(id="sidebar")
            with Vertical(id="conversation"):
                yield ChatView(id="chat")
                yield AttachmentTray(id="attachments")
                yield PromptInput(id="prompt")
                yield StatusLine(id="status")
        yield Footer()

    @property
    def chat_view(self) -> ChatView:
        return self.query_one("#chat", ChatView)

    @property
    def message_cursor(self) -> MessageCursor:
        if self._message_cursor is None:
            self._message_cursor = MessageCursor(self.chat_view)
        return self._message_cursor

    @property
    def tray(self) -> AttachmentTray:
        return self.query_one("#attachments", AttachmentTray)

    @property
    def sidebar(self) -> SessionSidebar:
        return self.query_one("#sidebar", SessionSidebar)

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    @property
    def roles(self) -> list[str]:
        return [role.name for role in self.services.roles]

    async def on_mount(self) -> None:
        await self.choices_applied.wait()
        prompt = self.prompt
        prompt.sent = PromptHistory(self.state_keeper.state.prompt_history)
        keymap = self.services.settings.keymap
        if "prompt.send" in keymap:
            prompt.send_keys = key_set(keymap["prompt.send"])
        if "prompt.newline" in keymap:
            prompt.newline_keys = key_set(keymap["prompt.newline"])
        recent = await self.services.sessions.list_sessions()
        if recent:
            self.role_name = recent[0].role if recent[0].role in self.roles else self.role_name
        if self.role_name not in self.roles:
            self.role_name = self.roles[0]
        # The first frame shows the sidebar, status line and a focused prompt; the open
        # session's messages are mounted right after it (mounting a page of Markdown
        # answers costs ~100-200 ms here, longer than the rest of start-up).
        self._history_shown.clear()
        await self.open_role(self.role_name, defer_history=True)
        for notice in self.services.notices:
            self.notify(notice, severity="warning", timeout=10)
        prompt.focus()
        if self.check_setup:
            self.check_model_setup()
        # Right after the first frame, so the first answer finds the client and the
        # renderer ready; it runs in a thread and the first frame never waits for it.
        self.call_after_refresh(self.warm_up)
        self.set_interval(EXTERNAL_CHECK_SECONDS, self._poll_external_changes)

    # ------------------------------------------------------------------ start-up helpers

    @work(thread=True, group="warmup", exit_on_error=False)
    def warm_up(self) -> None:
        """Get slow things ready off the event loop, after the first frame.

        In the order the first answer needs them: the chat client (importing openai
        takes ~1 s), then the Markdown widget, its parser and common lexers (~0.3 s
        otherwise spent on the event loop between the first token and the screen),
        then a cold Milvus Lite server (seconds). Nothing waits on this.
        """
        services = self.services
        bootstrap.warm_up_chat(services)
        # The answer view composes a Markdown widget as soon as a question is sent.
        from textual.widgets import Markdown  # noqa: F401 - imported lazily by answers

        bootstrap.warm_up_rendering()
        bootstrap.warm_up_retrieval(services.settings)

    @work(group="setup", exit_on_error=False)
    async def check_model_setup(self) -> None:
        settings = self.services.settings
        if missing_key_message(settings.provider) is None:
            return  # keyed, or a server that needs no key (this machine, a LAN host)
        detected = await asyncio.to_thread(bootstrap.local_model_server_detected)
        from chat_tui.tui.screens.setup import SetupScreen  # dialogs load on first use

        choice = await self.app.push_screen_wait(SetupScreen(str(settings.config_file), detected))
        if choice:
            await self.switch_provider(choice)

    # ------------------------------------------------------------------ other processes

    def _poll_external_changes(self) -> None:
        if not self._checking_external:  # one check at a time; a slow disk skips ticks
            self._checking_external = True
            self._check_external_changes()

    @work(group="external", exit_on_error=False)
    async def _check_external_changes(self) -> None:
        """Show what another process (a second TUI, ``chat-tui ask``) wrote meanwhile."""
        try:
            if self.streaming:
                return  # a turn in progress shows its own messages; the next tick catches up
            sessions = self.services.sessions
            changed = await sessions.external_changes()
            if not changed:
                return
            self.refresh_sidebar()
            shown = self.session
            if shown is None or sessions.is_draft(shown) or shown.id not in changed:
                return
            fresh = await sessions.get(shown.id)
            if fresh is None or self.session is None or self.session.id != shown.id:
                return
            if (fresh.message_count, fresh.updated_at, fresh.current_leaf) != (
                shown.message_count,
                shown.updated_at,
                shown.current_leaf,  # another process switched branches
            ):
                self.session = fresh
                self.refresh_status()
                self._history_shown.clear()  # a turn sent now lands after the reload
                await self.show_history(fresh)
        finally:
            self._checking_external = False

    # ------------------------------------------------------------------ sessions and roles

    def refresh_sidebar(self) -> None:
        """Redraw the sessions list (read in a thread; the latest request wins)."""
        self._sidebar_requests += 1
        self._show_sidebar(self._sidebar_requests)

    @work(group="sidebar", exit_on_error=False)
    async def _show_sidebar(self, request: int) -> None:
        # Not an exclusive worker: a cancelled one would fail ``wait_for_complete``.
        sessions = await self.services.sessions.list_sessions()
        if request != self._sidebar_requests:
            return  # a newer redraw is on its way
        self.sidebar.show(
            self.services.roles,
            sessions,
            self.session.id if self.session else None,
            self.role_name,
        )

    def refresh_status(self) -> None:
        self._show_status_fields()
        self._gauge_requests += 1
        self._show_gauge(self._gauge_requests)

    def _show_status_fields(self) -> None:
        """The status line's role, model, title and knowledge base (no I/O; not the gauge)."""
        status = self.status
        chat = self.services.chat
        settings = self.services.settings
        status.role = self.role_name
        status.model = (
            f"{chat.model_for(self.session)} ({settings.provider.name})"
            if self.session
            else settings.provider.model
        )
        status.session_title = clean_line(self.session.title) if self.session else ""
        if self.session is None or not settings.retrieval.enabled:
            status.retrieval = "KB off"
        elif not self.session.retrieval_enabled:
            status.retrieval = "KB off (ctrl+b)"
        else:
            status.retrieval = f"KB: {chat.knowledge_base_for(self.session)}"

    @work(group="gauge", exit_on_error=False)
    async def _show_gauge(self, request: int) -> None:
        """The context gauge of the open session (history read and counted in a thread)."""
        session = self.session
        if session is None:
            self.status.context = self.status.context_compact = ""
            self._gauge_session = None
            return
        chat = self.services.chat
        sessions = self.services.sessions
        # Fresh: the branch shown may have been switched since ``self.session`` was read.
        session = await sessions.get(session.id) or session
        messages = await sessions.messages(session.id)
        gauge = await asyncio.to_thread(chat.context_gauge, session, messages)
        if request != self._gauge_requests:
            return  # the session changed or another answer landed meanwhile
        status = self.status
        status.context = gauge.label()
        status.context_compact = gauge.label(compact=True)
        status.context_level = gauge.level.value
        self._gauge_session = session.id

    async def open_session(self, session: Session, *, defer_history: bool = False) -> None:
        """Show a session and make its role current.

        With ``defer_history`` the messages are mounted after the next frame, not before
        this returns (start-up uses it; turns wait for them, see ``run_turn``).
        """
        self.session = session
        self.role_name = session.role
        self.branching.forget()  # an edit of the session left is sent as a new message
        if defer_history:
            self.refresh_sidebar()
            self.refresh_status()
            self.call_after_refresh(
                self.show_history, session, self.services.notices, paint_first=True
            )
            return
        try:
            await self.show_history(session, paint_first=True)
        finally:
            # After the frame that shows the messages, not before it: the sidebar and the
            # context gauge read the history too (the gauge counts every message), in
            # threads that held the GIL and the history's lock while the pane the user
            # waits for was mounted. That frame already shows the session's highlight and
            # status line (``_show_opened``), and no gauge of the session left.
            self.call_after_refresh(self._refresh_after_open)

    def _refresh_after_open(self) -> None:
        self.refresh_sidebar()
        self.refresh_status()

    def _show_opened(self, session: Session) -> None:
        """What the frame showing ``session``'s messages changes besides the pane.

        Only what costs no I/O: the sidebar's highlight moves to it and the status line
        names it; a gauge counted for another session is blanked (counting this one reads
        its whole history, after the frame).
        """
        self.sidebar.highlight_session(session.id)
        self._show_status_fields()
        if self._gauge_session not in (None, session.id):
            status = self.status
            status.context = status.context_compact = ""
            self._gauge_session = None

    async def history_shown(self) -> None:
        """Wait until the open session's messages are in the chat pane."""
        await self._history_shown.wait()

    async def show_history(
        self, session: Session, notices: Iterable[str] = (), *, paint_first: bool = False
    ) -> None:
        """Show ``session``'s messages; ``paint_first``: its last screen before the rest."""
        try:
            async with self._history_lock:
                if self.session is None or self.session.id != session.id:
                    return  # another session was opened meanwhile
                conversation = await self.services.sessions.conversation(session.id)
                if self.session is None or self.session.id != session.id:
                    return
                # One frame: the new messages, their notices, the sidebar's highlight and
                # the status line all change together (see ``ChatView.show_messages``).
                with self.app.batch_update():
                    self.chat_view.branch_marks = conversation.positions()
                    await self.chat_view.show_messages(
                        conversation.shown, paint_first=paint_first
                    )
                    for notice in notices:
                        await self.chat_view.add_notice(notice, "warning")
                    self._show_opened(session)
        finally:
            self._history_shown.set()

    async def open_role(self, role: str, *, defer_history: bool = False) -> None:
        """Switch to a role: open its most recent session, or a new (unsaved) one."""
        self.role_name = role
        try:
            sessions = await self.services.sessions.list_sessions(role)
        except ChatTuiError as error:
            self.notify(str(error), severity="error")
            self._history_shown.set()
            return
        session = sessions[0] if sessions else self.services.sessions.draft(role)
        await self.open_session(session, defer_history=defer_history)

    async def role_sessions(self) -> list[Session]:
        return await self.services.sessions.list_sessions(self.role_name)

    @property
    def streaming(self) -> bool:
        return any(
            w.group == "llm" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in self.workers
        )

    def guard_streaming(self) -> bool:
        """Say so and return True while an answer streams (the caller then does nothing)."""
        if self.streaming:
            self.notify("An answer is streaming: press Esc to stop it first.", severity="warning")
            return True
        return False

    @on(SessionSelected)
    async def _session_selected(self, event: SessionSelected) -> None:
        if self.guard_streaming():
            return
        session = await self.services.sessions.get(event.session_id)
        if session is not None:
            await self.open_session(session)
            self.prompt.focus()

    async def action_new_session(self) -> None:
        if self.guard_streaming():
            return
        sessions = self.services.sessions
        if self.session and self.session.role == self.role_name and sessions.is_draft(self.session):
            self.prompt.focus()
            self.notify("This session is already new.", timeout=2)
            return
        # Nothing is written until the first message: an unused "New chat" leaves no file.
        await self.open_session(sessions.draft(self.role_name))
        self.prompt.focus()

    async def _step_session(self, step: int) -> None:
        if self.guard_streaming():
            return
        sessions = await self.role_sessions()
        if not sessions:
            return
        ids = [s.id for s in sessions]
        index = ids.index(self.session.id) if self.session and self.session.id in ids else -step
        target = sessions[(index + step) % len(sessions)]
        if self.session is None or target.id != self.session.id:
            await self.open_session(target)

    async def action_previous_session(self) -> None:
        await self._step_session(-1)

    async def action_next_session(self) -> None:
        await self._step_session(1)

    async def action_switch_role(self, number: int) -> None:
        if self.guard_streaming():
            return
        if 1 <= number <= len(self.roles):
            await self.open_role(self.roles[number - 1])
            self.notify(f"Role: {self.role_name}", timeout=2)

    @work(group="dialog", exit_on_error=False)
    async def action_pick_role(self) -> None:
        await self.dialogs.pick_role()

    @work(group="dialog", exit_on_error=False)
    async def action_rename_session(self) -> None:
        await self.dialogs.rename_session()

    @work(group="dialog", exit_on_error=False)
    async def action_delete_session(self) -> None:
        await self.dialogs.delete_session()

    @work(group="dialog", exit_on_error=False)
    async def action_clear_session(self) -> None:
        await self.dialogs.clear_session()

    @work(group="export", exit_on_error=False)
    async def action_export_session(self) -> None:
        from chat_tui.tui.session_export import export_open_session  # zipfile, transfer

        await export_open_session(self)

    @work(group="dialog", exit_on_error=False)
    async def action_search_history(self) -> None:
        """ctrl+f: search every session; the chosen message is opened, selected, in view."""
        from chat_tui.tui.screens.history_search import HistorySearchScreen

        hit = await self.app.push_screen_wait(HistorySearchScreen(self.services.history_search))
        if hit is None or self.guard_streaming():
            return
        # A hit on an older version of a message opens the branch it is on.
        session = await self.services.sessions.show_version_of(hit.session_id, hit.message_id)
        if session is None:
            self.notify("That session no longer exists.", severity="warning")
            return
        await self.open_session(session)
        widget = await self.chat_view.reveal_message(hit.message_id)
        if widget is None:
            self.notify("That message is no longer stored.", severity="warning")
            return
        self.set_focus(self.chat_view)
        self.message_cursor.select(widget, scroll=False)
        self.prompt.border_subtitle = CHAT_KEYS_HINT

    # ------------------------------------------------------------------ provider, model, KB

    async def switch_provider(self, name: str) -> None:
        """Make ``name`` the active provider profile (F5, the palette, the setup dialog)."""
        await self.sources.switch_provider(name)

    @work(group="dialog", exit_on_error=False)
    async def action_pick_provider(self) -> None:
        await self.sources.pick_provider()

    @work(group="dialog", exit_on_error=False)
    async def action_pick_model(self) -> None:
        await self.sources.pick_model()

    @work(group="session-settings", exit_on_error=False)
    async def action_toggle_retrieval(self) -> None:
        await self.sources.toggle_retrieval()

    def action_search_knowledge(self) -> None:
        self.sources.search_knowledge()

    @work(group="dialog", exit_on_error=False)
    async def action_pick_knowledge_base(self) -> None:
        await self.sources.pick_knowledge_base()

    # ------------------------------------------------------------------ turns

    @on(PromptSubmitted)
    def _prompt_submitted(self, event: PromptSubmitted) -> None:
        if (
            self.streaming
            and self.answer_saved
            and self._after_turn is None
            and self.branching.editing is None  # (editing cannot start mid-turn)
        ):
            # The answer is on screen and stored; the turn only re-reads its session.
            # Refusing now would refuse a question the user saw no reason to hold back.
            self.state_keeper.prompt_sent(event.text)
            self._after_turn = (event.text, self.images.take())
            return
        if self.streaming:
            self.prompt.text = event.text
            self.notify("An answer is still streaming: press Esc to stop it.", severity="warning")
            return
        self.state_keeper.prompt_sent(event.text)
        self.run_turn(event.text, self.branching.take(), self.images.take())

    def _send_after_turn(self, state: WorkerState) -> None:
        """The turn has ended: send the question that waited for it to tidy up."""
        waiting, self._after_turn = self._after_turn, None
        if waiting is None:
            return
        text, attachments = waiting
        if state is WorkerState.SUCCESS and not self.streaming:
            self.run_turn(text, None, attachments)
        else:
            self._unsend_after_turn(waiting)

    def _unsend_after_turn(self, waiting: tuple[str, tuple[Attachment, ...]]) -> None:
        """Stopped or failed while tidying up: the waiting question goes back, unsent."""
        text, attachments = waiting
        self.restore_prompt(text)
        self.images.restore(attachments)

    @work(group="dialog", exit_on_error=False)
    async def action_attach_image(self) -> None:
        await self.images.pick()

    @on(ImagePathPasted)
    def _image_pasted(self, event: ImagePathPasted) -> None:
        self.attach_pasted(event.path)

    @work(group="dialog", exit_on_error=False)
    async def attach_pasted(self, path: Path) -> None:
        await self.images.pasted(path)

    def action_regenerate(self) -> None:
        if self.guard_streaming() or self.session is None:
            return
        self.run_turn(None)

    def action_stop_answer(self) -> None:
        waiting, self._after_turn = self._after_turn, None
        if waiting is not None:
            self._unsend_after_turn(waiting)  # Esc stops the question waiting to go, too
        if self.streaming:
            # Also stop drawing: a long answer can be stored complete while the pane is
            # still far behind, and Esc must end that too.
            view = self.chat_view.last_answer()
            if view is not None:
                view.stop_rendering(unless_under=SMALL_BACKLOG)
            self.stop_turn()
        else:
            self.branching.cancel()

    def stop_turn(self) -> None:
        """Cancel the turn in progress, if any (Esc, quit)."""
        self.workers.cancel_group(self, "llm")

    def action_copy_answer(self) -> None:
        view = self.chat_view.last_answer()
        text = view.message.content if view and view.message else ""
        if not text:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {len(text)} characters.", timeout=2)

    @work(exclusive=True, group="llm", exit_on_error=False)
    async def run_turn(
        self,
        text: str | None,
        edit_of: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> None:
        """Send ``text`` (or regenerate when None) and stream the answer into the pane.

        ``edit_of``: the earlier question ``text`` is a new version of (a new branch);
        ``attachments``: the images sent with it.
        """
        await play_turn(self, text, edit_of, attachments)

    def restore_prompt(self, text: str) -> None:
        """Put an unsent message back in the prompt, unless something new was typed."""
        prompt = self.prompt
        if not prompt.text.strip():
            prompt.text = text
            prompt.move_cursor(prompt.document.end)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "llm" and worker.is_finished:
            self._send_after_turn(worker.state)
        if worker.state is WorkerState.ERROR and worker.group in REPORTED_GROUPS:
            # A bug must not take the app down; say it in one line, keep going.
            error = worker.error
            self.notify(
                f"Unexpected error: {type(error).__name__}: {error}"[:300], severity="error"
            )

    # ------------------------------------------------------------------ keyboard

    def action_scroll_chat(self, where: str) -> None:
        """PageUp/PageDown, ctrl+home/ctrl+end from the prompt scroll the chat."""
        self.chat_view.scroll_by_key(where)

    def action_focus_chat(self) -> None:
        # set_focus now, not focus() (which waits a turn): keys typed right after
        # ctrl+o are already queued and must reach the chat, not the prompt.
        self.set_focus(self.chat_view)
        if self.message_cursor.selected is None:
            self.message_cursor.move(-1)
        # Said where the eye is, and cleared when the prompt has the focus again.
        self.prompt.border_subtitle = CHAT_KEYS_HINT

    def focus_chat(self) -> None:
        """Move into the chat pane (a click on a message does, like ctrl+o)."""
        self.action_focus_chat()

    def action_edit_message(self) -> None:
        self.branching.edit_selected()

    async def action_switch_branch(self, step: int) -> None:
        await self.branching.switch_selected(step)

    @on(BranchSwitch.Pressed)
    async def _branch_switch_pressed(self, event: BranchSwitch.Pressed) -> None:
        await self.branching.switch(event.message_id, event.step)

    @on(events.Click)
    def _clicked(self, event: events.Click) -> None:
        self.branching.clicked(event)

    def action_leave_chat(self) -> None:
        if self.streaming:
            self.action_stop_answer()
            return
        self.message_cursor.clear()
        self.set_focus(self.prompt)

    def action_select_message(self, step: int) -> None:
        self.message_cursor.move(step)

    def action_copy_selected(self) -> None:
        widget = self.message_cursor.selected
        text = message_text(widget) if widget is not None else ""
        if not text:
            self.notify("Select a message with up/down first.", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the message ({len(text)} characters).", timeout=2)

    def action_copy_code(self) -> None:
        found = self.message_cursor.next_code_block()
        if found is None:
            self.notify("The selected message has no code block.", severity="warning")
            return
        code, number, count = found
        self.app.copy_to_clipboard(code)
        self.notify(f"Copied code block {number} of {count} ({len(code)} characters).", timeout=2)

    def action_preview_images(self) -> None:
        widget = self.message_cursor.selected
        message = widget.message if isinstance(widget, UserMessage) else None
        if message is None or not message.attachments:
            self.notify("Select a message with images first (up/down).", severity="warning")
            return
        from chat_tui.tui.screens.image_preview import ImagePreviewScreen

        self.app.push_screen(
            ImagePreviewScreen(self.services.chat.attachments, message.attachments)
        )

    def action_toggle_full_paths(self) -> None:
        widget = self.message_cursor.selected
        if not isinstance(widget, AnswerView) or widget.message is None:
            self.notify("Select an answer with sources first (up/down).", severity="warning")
            return
        if not widget.message.citations:
            self.notify("This answer has no sources.", severity="warning")
            return
        full = widget.toggle_full_paths()
        self.notify("Full source paths." if full else "Short source paths.", timeout=2)

    def action_toggle_sidebar(self) -> None:
        """Show or hide the sidebar; the choice holds until the next toggle."""
        shown = self.sidebar.display
        self.set_class(shown, "sidebar-off")
        self.set_class(not shown, "sidebar-on")


__all__ = ["ChatScreen"]
