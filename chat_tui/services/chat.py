"""The chat service: one code path for a turn, shared by the TUI and ``chat-tui ask``.

A turn is: save the user's message (before anything is sent, so a crash loses
nothing), gather knowledge-base context (the retrieval seam), stream the answer,
and save it when it completes, is stopped or fails, partial text kept and marked.
While the answer streams it is checkpointed every few seconds or kilobytes, marked
interrupted, so a process killed mid-answer keeps nearly all of what was shown.
Whenever the turn is cancelled (Esc, quit) after the user's message was handed
over, it ends as a stored, stopped turn: the user's message and a stopped answer.
The caller receives typed events through a callback; it never touches storage or
the HTTP client itself, and every storage call here runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from chat_tui.config import Settings
from chat_tui.domain.attachments import Attachment
from chat_tui.domain.branches import Branches, visible_path
from chat_tui.domain.context_gauge import ContextGauge, session_usage
from chat_tui.domain.models import (
    FIRST,
    Citation,
    Message,
    MessageStatus,
    Role,
    Session,
    Usage,
    now,
)
from chat_tui.domain.plurals import passages_summary
from chat_tui.domain.prompt import (
    build_messages,
    context_budget,
    fewer_earlier,
    refused_as_too_long,
    sendable_turns,
    title_from,
)
from chat_tui.domain.text import StreamSanitizer
from chat_tui.domain.tokens import estimate_messages_tokens, estimate_tokens
from chat_tui.errors import ChatTuiError, ProviderError
from chat_tui.services.attachments import AttachmentService
from chat_tui.services.sessions import SessionService
from chat_tui.storage.base import SessionRepository
from chat_tui.storage.blobs import BlobStore

if TYPE_CHECKING:
    from chat_tui.llm.client import ChatClient

log = logging.getLogger(__name__)

#: A partial answer is checkpointed when this many seconds or characters have
#: arrived since the last checkpoint (each checkpoint rewrites the session file).
CHECKPOINT_SECONDS = 2.0
CHECKPOINT_CHARS = 4_096
#: The largest answer (and reasoning) stored; a stream that goes on is stopped there,
#: so a server that never stops cannot grow memory without bound.
MAX_ANSWER_CHARS = 2_000_000
INTERRUPTED_NOTE = "interrupted: the app ended before this answer was complete"


# ----------------------------------------------------------------------------- events


@dataclass(frozen=True)
class UserTurnSaved:
    message: Message
    session: Session


@dataclass(frozen=True)
class RetrievalStarted:
    knowledge_base: str


@dataclass(frozen=True)
class RetrievalFinished:
    citations: tuple[Citation, ...]
    notice: str | None = None

    def summary(self) -> str:
        """'3 passages from 2 files' style text."""
        if self.notice and not self.citations:
            return self.notice
        text = passages_summary(len(self.citations), len({c.source for c in self.citations}))
        return f"{text} ({self.notice})" if self.notice else text


@dataclass(frozen=True)
class ReasoningReceived:
    text: str


@dataclass(frozen=True)
class ContentReceived:
    text: str


@dataclass(frozen=True)
class AnswerSaved:
    """The answer was stored: complete, stopped (partial kept) or failed (error set)."""

    message: Message


ServiceEvent = (
    UserTurnSaved
    | RetrievalStarted
    | RetrievalFinished
    | ReasoningReceived
    | ContentReceived
    | AnswerSaved
)
EventSink = Callable[[ServiceEvent], Awaitable[None]]


# ----------------------------------------------------------------------------- seam


class ContextResultLike(Protocol):
    """What a context provider returns; read-only so frozen dataclasses satisfy it."""

    @property
    def citations(self) -> tuple[Citation, ...]: ...

    @property
    def context_block(self) -> str: ...

    @property
    def notice(self) -> str | None: ...


class ContextProvider(Protocol):
    """The retrieval seam: turns a question into a context block and citations."""

    async def gather(self, question: str, knowledge_base: str) -> ContextResultLike: ...

    async def aclose(self) -> None:
        """Close the clients the retrieval step opened (embedder, Milvus)."""
        ...


# ----------------------------------------------------------------------------- service


def trailing_answers(history: Sequence[Message]) -> list[Message]:
    """The assistant messages after the last user turn (what regenerate answers again)."""
    trailing: list[Message] = []
    for message in reversed(history):
        if message.role != "assistant":
            break
        trailing.append(message)
    return trailing


class ChatService:
    """Runs chat turns against the active provider and keeps history.

    Args:
        settings: the settings (provider profile, history budget, retrieval).
        repository: where sessions and messages live.
        roles: the known roles, by name.
        context: the retrieval seam, or None for no retrieval.
        client_factory: builds the chat client for a provider (tests may pass one
            pointed at a local server; by default the real OpenAI-compatible client).
    """

    def __init__(
        self,
        settings: Settings,
        repository: SessionRepository,
        roles: Sequence[Role],
        *,
        context: ContextProvider | None = None,
        client_factory: Callable[[Settings], ChatClient] | None = None,
    ) -> None:
        #: The settings in force: the one copy, replaced by ``use_provider`` and
        #: ``use_model`` (``AppServices.settings`` reads through to it).
        self.settings = settings
        self.repository = repository
        self.roles = {role.name: role for role in roles}
        self.context = context
        self._client_factory = client_factory or _default_client
        self._client: ChatClient | None = None
        # One client is built at a time: a turn that starts while the start-up warm-up
        # is building it waits for that one instead of importing openai a second time.
        self._client_lock = threading.Lock()
        self.sessions = SessionService(repository)
        #: Attached images, stored once each under the data dir.
        self.attachments = AttachmentService(BlobStore(settings.attachments_dir))
        # How many earlier messages (before the question) the last request of each
        # session carried: a retry after a context-length refusal sends fewer.
        self._sent_earlier: dict[str, int] = {}

    # -- provider

    def use_provider(self, name: str) -> None:
        """Switch the active provider profile; the next request uses it."""
        self.settings = self.settings.with_provider(name)
        self._client = None

    def use_model(self, model: str) -> None:
        """Switch the model of the active provider."""
        provider = replace(self.settings.provider, model=model)
        providers = dict(self.settings.providers)
        providers[provider.name] = provider
        self.settings = replace(self.settings, provider=provider, providers=providers)
        self._client = None

    async def client(self) -> ChatClient:
        """The chat client, built off the event loop (importing openai takes ~0.7 s)."""
        client = self._client
        if client is None:
            client = await asyncio.to_thread(self.prepare_client)
        return client

    def prepare_client(self) -> ChatClient:
        """Build the chat client for the settings in force, once (blocking: run in a thread).

        The start-up warm-up calls this so the first answer finds the client ready; a
        turn that asks meanwhile waits for the same build. A client built for settings
        that a provider or model switch replaced meanwhile is not kept.
        """
        with self._client_lock:
            client = self._client
            if client is None:
                settings = self.settings
                client = self._client_factory(settings)
                if self.settings is settings:
                    self._client = client
            return client

    async def list_models(self) -> list[str]:
        return await (await self.client()).list_models()

    def role(self, name: str) -> Role:
        return (
            self.roles.get(name) or self.roles.get("assistant") or next(iter(self.roles.values()))
        )

    def model_for(self, session: Session) -> str:
        return self.role(session.role).model or self.settings.provider.model

    def knowledge_base_for(self, session: Session) -> str:
        return (
            session.knowledge_base
            or self.role(session.role).knowledge_base
            or self.settings.retrieval.knowledge_base
        )

    # -- turns

    async def send(
        self,
        session_id: str,
        text: str,
        on_event: EventSink,
        *,
        use_retrieval: bool = True,
        max_earlier: int | None = None,
        edit_of: str | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> Message:
        """Save ``text`` as the user's turn, then answer it.

        The turn follows the branch shown (``Session.current_leaf``), and only that
        branch is sent as context.

        Args:
            session_id: the session to answer in.
            text: the user's message.
            on_event: receives progress events.
            use_retrieval: False skips the knowledge base for this turn only.
            max_earlier: at most this many earlier messages are sent (None: as many
                as the context budget holds).
            edit_of: the id of an earlier user message this one is an edited version
                of: it is stored beside that one (same parent), a new branch that
                becomes the one shown; the old branch is kept.
            attachments: images stored before (``attachments.attach``), sent with it.

        Returns:
            The stored answer (complete, stopped or failed).

        Raises:
            ChatTuiError: the message to edit is not a stored question (nothing saved).
        """
        user_saved = asyncio.ensure_future(
            asyncio.to_thread(self._save_user, session_id, text, edit_of, tuple(attachments))
        )
        try:
            # Shielded: Esc while the save is in flight must not leave it half-reported.
            user, session = await asyncio.shield(user_saved)
        except asyncio.CancelledError:
            # The save runs to its end in its thread; then the turn is stored as stopped.
            user, session = await user_saved
            await self._stopped_before_answer(session, user, on_event)
            raise
        return await self._answer(
            session,
            on_event,
            use_retrieval=use_retrieval,
            announce=UserTurnSaved(user, session),
            max_earlier=max_earlier,
        )

    def _save_user(
        self,
        session_id: str,
        text: str,
        edit_of: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> tuple[Message, Session]:
        """Store the user's turn (and the draft session it opens); blocking."""
        if self.sessions.is_draft(session_id):
            if edit_of is not None:
                raise ChatTuiError("Cannot edit that message: it is no longer stored.")
            session = self.sessions.store_draft(session_id)
            tree = Branches(())
        else:
            session = self._session(session_id)
            tree = Branches(self.repository.messages(session.id))
        if edit_of is not None:
            edited = tree.get(edit_of)
            if edited is None or edited.role != "user":
                raise ChatTuiError("Cannot edit that message: it is no longer stored.")
            parent = tree.link_to(edit_of)
        else:
            shown = tree.path(session.current_leaf)
            parent = shown[-1].id if shown else FIRST
        user = Message(
            session_id=session.id,
            role="user",
            content=text,
            parent_id=parent,
            attachments=attachments,
        )
        self.repository.append_message(user)
        if edit_of is not None:
            self.repository.select_leaf(session.id, user.id)
        if not session.titled:
            self.repository.update_session(replace(session, title=title_from(text), titled=True))
        return user, self._session(session.id)

    async def _stopped_before_answer(
        self, session: Session, user: Message, on_event: EventSink
    ) -> None:
        """Esc came before the answer started: store and show an empty, stopped answer."""
        answer = Message(
            session_id=session.id,
            role="assistant",
            content="",
            completed_at=now(),
            model=self.model_for(session),
            status=MessageStatus.STOPPED,
            parent_id=user.id,
        )
        await asyncio.shield(asyncio.to_thread(self.repository.append_message, answer))
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await on_event(UserTurnSaved(user, session))
            await on_event(AnswerSaved(answer))

    async def regenerate(self, session_id: str, on_event: EventSink) -> Message:
        """Answer the last user turn of the branch shown again.

        The new answer is stored beside the earlier one(s) (a sibling: the same
        question as parent) and becomes the one shown; the earlier answers stay, one
        branch switch away, whether the new one completes, fails or is stopped, so
        ctrl+g never loses a good answer. The shown attempt is dropped when it has no
        text and nothing follows it (a failure before the first byte).

        When the last attempt was refused as too long for the model's context window,
        the retry carries fewer earlier turns (the oldest half of the refused request's
        exchanges dropped, see ``fewer_earlier``), again on each refusal.

        Raises:
            ChatTuiError: there is no question, or only the question was sent and it
                was still refused as too long.
        """
        session = await asyncio.to_thread(self._session, session_id)
        tree = Branches(await asyncio.to_thread(self.repository.messages, session.id))
        history = tree.path(session.current_leaf)
        trailing = trailing_answers(history)
        history = history[: len(history) - len(trailing)]
        if not history or history[-1].role != "user":
            raise ChatTuiError("Nothing to regenerate: this session has no question yet.")
        max_earlier = None
        if trailing and refused_as_too_long(trailing[0]):
            max_earlier = self._fewer_earlier(session, history)
        for attempt in trailing:
            if not attempt.content.strip() and not tree.children(attempt.id):
                await asyncio.to_thread(self.repository.delete_message, session.id, attempt.id)
        # The question becomes the point shown: the newest answer below it (the new one,
        # from its first checkpoint on) is what the pane, the CLI and the next turn see.
        session = await asyncio.to_thread(self.repository.select_leaf, session.id, history[-1].id)
        return await self._answer(session, on_event, history=history, max_earlier=max_earlier)

    def _fewer_earlier(self, session: Session, history: list[Message]) -> int:
        """The earlier messages a retry after a context-length refusal may carry."""
        sent = self._sent_earlier.get(session.id)
        if sent is None:
            # Refused in an earlier run (or another process): assume the full request.
            request = build_messages(
                self.role(session.role).system_prompt,
                history,
                budget=self._budget(),
                count_tokens=estimate_tokens,
            )
            sent = max(0, len(request) - 2)
        if sent == 0:
            raise ChatTuiError(
                "Only the question is left and it is still too long for the model's context "
                "window: shorten it, or use a model with a larger context window."
            )
        return fewer_earlier(sent)

    def retry_earlier(self, session_id: str) -> int | None:
        """Earlier messages a retry of the last request of this process may carry.

        None when nothing was sent in this session yet or only the question was.
        """
        sent = self._sent_earlier.get(session_id)
        return fewer_earlier(sent) if sent else None

    def context_gauge(self, session: Session, messages: Sequence[Message]) -> ContextGauge:
        """What the next request of ``session`` carries before its question, and the totals.

        ``messages`` are all of the session's (every branch): the context is the branch
        shown (``session.current_leaf``), as a request sends it; the totals count every
        answer, since each one was paid for. Built by the request's own trimming
        (``build_messages``) with a one-character stand-in question, so the gauge and
        the request cannot disagree.
        """
        probe = Message(session_id=session.id, role="user", content="?")
        turns = [*visible_path(messages, session.current_leaf), probe]
        budget = self._budget()
        request = build_messages(
            self.role(session.role).system_prompt,
            turns,
            budget=budget,
            count_tokens=estimate_tokens,
        )
        earlier = len(sendable_turns(turns)) - 1
        provider = self.settings.provider
        return ContextGauge(
            tokens=estimate_messages_tokens(request[:-1]),
            budget=budget,
            dropped=max(0, earlier - (len(request) - 2)),
            usage=session_usage(
                messages, input_price=provider.input_price, output_price=provider.output_price
            ),
        )

    def _budget(self) -> int:
        provider = self.settings.provider
        return context_budget(
            provider.context_window, provider.answer_tokens, self.settings.history.context_tokens
        )

    def _conversation_to(self, session: Session, message_id: str | None) -> list[Message]:
        """The branch up to a message (None: the branch shown); blocking."""
        tree = Branches(self.repository.messages(session.id))
        if message_id is not None and message_id in tree:
            return tree.path_to(message_id)
        current = self.repository.get_session(session.id) or session
        return tree.path(current.current_leaf)

    def _session(self, session_id: str) -> Session:
        session = self.repository.get_session(session_id)
        if session is None:
            raise ChatTuiError("That session no longer exists.")
        return session

    async def _gather(
        self, session: Session, question: str, on_event: EventSink, use_retrieval: bool = True
    ) -> tuple[str | None, tuple[Citation, ...]]:
        if (
            self.context is None
            or not use_retrieval
            or not session.retrieval_enabled
            or not self.settings.retrieval.enabled
        ):
            return None, ()
        kb = self.knowledge_base_for(session)
        await on_event(RetrievalStarted(kb))
        try:
            result = await asyncio.wait_for(
                self.context.gather(question, kb), timeout=self.settings.retrieval.timeout
            )
        except TimeoutError:
            await on_event(RetrievalFinished((), "knowledge base timed out; answering without it"))
            return None, ()
        except ChatTuiError as error:
            await on_event(
                RetrievalFinished((), f"knowledge base unavailable: {error}; answering without it")
            )
            return None, ()
        except Exception as error:  # noqa: BLE001 - retrieval must never stop the answer
            log.exception("retrieval failed")
            await on_event(
                RetrievalFinished(
                    (), f"knowledge base failed ({type(error).__name__}); answering without it"
                )
            )
            return None, ()
        await on_event(RetrievalFinished(tuple(result.citations), result.notice))
        return (result.context_block or None), tuple(result.citations)

    async def _answer(
        self,
        session: Session,
        on_event: EventSink,
        *,
        use_retrieval: bool = True,
        history: list[Message] | None = None,
        announce: UserTurnSaved | None = None,
        max_earlier: int | None = None,
    ) -> Message:
        """Stream an answer to the last message of ``history`` (default: the conversation
        up to the announced user turn).

        ``announce``: sent first, inside the part where a cancel ends in a stopped answer.
        ``max_earlier``: at most this many messages before the question are sent.
        """
        role = self.role(session.role)
        model = self.model_for(session)
        provider = self.settings.provider
        answer_id = Message(session_id=session.id, role="assistant", content="").id
        citations: tuple[Citation, ...] = ()
        content: list[str] = []
        reasoning: list[str] = []
        usage: Usage | None = None
        content_clean = StreamSanitizer()
        reasoning_clean = StreamSanitizer()
        started = now()
        sizes = {"content": 0, "reasoning": 0}
        # Checkpoints and the final save share one lock; once the final one is written,
        # a checkpoint still queued in its thread must not overwrite it.
        write_lock = threading.Lock()
        finished = False
        checkpoint: asyncio.Future[None] | None = None
        last_checkpoint = (time.monotonic(), 0)
        question_id = announce.message.id if announce is not None else None
        if history:
            question_id = history[-1].id

        def snapshot(
            status: MessageStatus,
            error: str | None = None,
            *,
            final: bool = True,
            error_kind: str | None = None,
        ) -> Message:
            if final:
                tail = content_clean.flush()
                if tail:
                    content.append(tail)
            return Message(
                id=answer_id,
                session_id=session.id,
                role="assistant",
                content="".join(content),
                reasoning="".join(reasoning) + (reasoning_clean.flush() if final else ""),
                created_at=started,
                completed_at=now() if final else None,
                model=model,
                usage=usage,
                status=status,
                error=error,
                citations=citations,
                error_kind=error_kind,
                parent_id=question_id,
            )

        def write_checkpoint(partial: Message) -> None:
            with write_lock:
                if not finished:
                    self.repository.append_message(partial)  # same id: replaces the last one

        def store(answer: Message) -> Message:
            nonlocal finished
            with write_lock:
                finished = True
                self.repository.append_message(answer)
            return answer

        def maybe_checkpoint() -> None:
            nonlocal checkpoint, last_checkpoint
            if checkpoint is not None and not checkpoint.done():
                return  # the disk is slower than the stream: the next one catches up
            at, chars = last_checkpoint
            size = sizes["content"] + sizes["reasoning"]
            if time.monotonic() - at < CHECKPOINT_SECONDS and size - chars < CHECKPOINT_CHARS:
                return
            last_checkpoint = (time.monotonic(), size)
            partial = snapshot(MessageStatus.INTERRUPTED, INTERRUPTED_NOTE, final=False)
            checkpoint = asyncio.ensure_future(asyncio.to_thread(write_checkpoint, partial))
            checkpoint.add_done_callback(_log_checkpoint_failure)

        def capped(kind: str, piece: str) -> tuple[str, bool]:
            room = MAX_ANSWER_CHARS - sizes[kind]
            if len(piece) >= room:
                sizes[kind] = MAX_ANSWER_CHARS
                return piece[: max(0, room)], True
            sizes[kind] += len(piece)
            return piece, False

        cap_error: str | None = None
        try:
            if announce is not None:
                await on_event(announce)
            if history is None:
                history = await asyncio.to_thread(self._conversation_to, session, question_id)
            question = history[-1].content
            # Inside the try: Esc during retrieval must also end in a stored, stopped turn.
            context_block, citations = await self._gather(
                session, question, on_event, use_retrieval
            )
            build = functools.partial(
                build_messages,
                role.system_prompt,
                history,
                budget=self._budget(),
                count_tokens=estimate_tokens,
                context_block=context_block,
                max_earlier=max_earlier,
                images=self.attachments.data_url,
            )
            # Images are read from disk and encoded: off the event loop when there are any.
            with_images = any(m.attachments for m in history)
            request = await asyncio.to_thread(build) if with_images else build()
            self._sent_earlier[session.id] = max(0, len(request) - 2)  # less system, question
            from chat_tui.llm.client import ContentDelta, ReasoningDelta

            client = await self.client()
            stream = client.stream_reply(
                request,
                model=model,
                temperature=role.temperature
                if role.temperature is not None
                else provider.temperature,
                max_tokens=None,
            )
            async with contextlib.aclosing(stream):
                async for delta in stream:
                    full = False
                    if isinstance(delta, ContentDelta):
                        piece, full = capped("content", content_clean.feed(delta.text))
                        if piece:
                            content.append(piece)
                            await on_event(ContentReceived(piece))
                    elif isinstance(delta, ReasoningDelta):
                        piece, full = capped("reasoning", reasoning_clean.feed(delta.text))
                        if piece:
                            reasoning.append(piece)
                            await on_event(ReasoningReceived(piece))
                    elif isinstance(delta, Usage):
                        usage = delta
                    if full:
                        cap_error = (
                            f"The answer was cut at {MAX_ANSWER_CHARS // 1_000_000} million "
                            "characters (the size cap); the stream was stopped there."
                        )
                        break
                    maybe_checkpoint()
        except asyncio.CancelledError:
            # Esc or quit: keep what arrived, marked as stopped. The write runs in a
            # thread that finishes even if the app is shutting down around it.
            answer = snapshot(MessageStatus.STOPPED)
            # Handed to the executor now, not when a task first runs: an app that quits
            # right after the cancel still runs it (asyncio.run waits for the executor).
            saving = asyncio.get_running_loop().run_in_executor(None, store, answer)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(saving)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await on_event(AnswerSaved(answer))
            raise
        except ChatTuiError as error:
            kind = error.kind if isinstance(error, ProviderError) else None
            answer = await asyncio.to_thread(
                store, snapshot(MessageStatus.FAILED, str(error), error_kind=kind)
            )
        except Exception as error:  # noqa: BLE001 - a bug must not lose the partial answer
            log.exception("unexpected error while streaming")
            answer = await asyncio.to_thread(
                store,
                snapshot(
                    MessageStatus.FAILED,
                    f"Unexpected error ({type(error).__name__}); see the log.",
                ),
            )
        else:
            final = (
                snapshot(MessageStatus.STOPPED, cap_error)
                if cap_error
                else snapshot(MessageStatus.COMPLETE)
            )
            answer = await asyncio.to_thread(store, final)
        await on_event(AnswerSaved(answer))
        return answer

    async def aclose(self) -> None:
        """Close the model client and the retrieval step's clients (embedder, Milvus)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self.context is not None:
            with contextlib.suppress(Exception):  # quitting: a failed close must not block it
                await self.context.aclose()


def _log_checkpoint_failure(done: asyncio.Future[None]) -> None:
    """A failed checkpoint only costs crash safety; the final save reports real trouble."""
    if not done.cancelled() and done.exception() is not None:
        log.warning("could not checkpoint the partial answer: %s", done.exception())


def _default_client(settings: Settings) -> ChatClient:
    from chat_tui.llm.client import ChatClient

    return ChatClient(settings.provider, secrets=settings.secrets())


def describe_answer(message: Message) -> dict[str, Any]:
    """A JSON-friendly summary of a stored answer (for ``chat-tui ask --json``)."""
    return {
        "status": message.status.value,
        "content": message.content,
        "error": message.error,
        "model": message.model,
        "sources": [c.label() for c in message.citations],
    }
