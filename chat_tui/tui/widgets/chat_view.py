"""The chat pane: user turns, streamed Markdown answers, thinking blocks, sources.

Answers stream through ``Markdown.get_stream()`` fed from a small buffer that is
flushed at most ~30 times a second, so the cost of rendering does not grow with
the rate of tokens. Each flush hands the stream at most ``MAX_FLUSH_CHARS``
characters, and only once the stream has rendered the previous piece: when text
arrives faster than it can be shown (a fast local model, a burst after a network
hiccup), rendering falls behind a little instead of freezing the app for one huge
append (measured: a 14,000-character burst appended at once stalled the event
loop ~350 ms; in pieces of 1,000, no stall over ~50 ms). ``finish`` drains the
rest the same way.

Only the most recent messages of a long session are mounted; older ones come in
pages on request, so opening a 2,000-message session stays fast. Every widget
costs about a millisecond to mount here, so an answer mounts only the parts it
uses: the thinking block, retrieval note, sources and status line appear when
there is something to show.
"""

from __future__ import annotations

import asyncio
import os.path
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Collapsible, Static

from chat_tui.domain.models import Citation, Message, MessageStatus
from chat_tui.domain.source_paths import shorten_sources
from chat_tui.tui.messages import EarlierMessagesRequested

if TYPE_CHECKING:
    # Imported where first used: markdown-it and Textual's Markdown cost ~60 ms, and the
    # first frame shows no answer (history is mounted just after it).
    from textual.widgets import Markdown
    from textual.widgets.markdown import MarkdownStream

#: Messages shown when a session opens (enough to fill a tall terminal) and per
#: "show earlier" page.
FIRST_PAGE = 14
PAGE_SIZE = 30
#: The parts under an answer's body, in display order.
FOOTER_PARTS = ("retrieval-note", "sources", "answer-status")
FLUSH_INTERVAL = 1 / 30
#: Characters handed to the Markdown stream per flush (about 250 tokens).
MAX_FLUSH_CHARS = 1_000


def sources_content(citations: Sequence[Citation], full: bool = False) -> Content:
    """'Sources' lines under an answer, as plain content (paths are data, not markup).

    Unless ``full``, the folder the sources share is named once on the heading and
    each path is shown relative to it (see ``chat_tui.domain.source_paths``).
    """
    if full:
        folder, shown = "", [c.source for c in citations]
    else:
        folder, shown = shorten_sources([c.source for c in citations], os.path.expanduser("~"))
    heading = [Content.styled("Sources", "bold")]
    if folder:
        heading.append(Content.styled(f"  in {folder}", "dim"))
    lines = [Content("").join(heading)]
    for number, (citation, source) in enumerate(zip(citations, shown, strict=True), start=1):
        lines.append(Content(f"  [{number}] {replace(citation, source=source).label()}"))
    return Content("\n").join(lines)


class UserMessage(Static):
    """A user's turn, shown verbatim."""

    def __init__(self, message: Message) -> None:
        super().__init__(Content(message.content), classes="user-message")
        self.message = message


class Notice(Static):
    """A one-line notice or error in the chat pane."""

    def __init__(self, text: str, severity: str = "information") -> None:
        super().__init__(Content(text), classes=f"notice {severity}")


class AnswerView(Vertical):
    """One assistant answer: thinking block, Markdown body, sources, status."""

    def __init__(self, message: Message | None = None) -> None:
        super().__init__(classes="answer")
        self.message = message
        self._stream: MarkdownStream | None = None
        self._buffer: list[str] = []
        self._buffered = ""
        self._reasoning: list[str] = []
        self._reasoning_dirty = False
        self._timer: Timer | None = None
        # Kept by reference: a Collapsible composes its contents a few loop turns after
        # it is mounted, so a query for the text could come up empty in between.
        self._thinking_box: Collapsible | None = None
        self._reasoning_text: Static | None = None
        self.streamed_text = ""
        self.full_paths = False

    def compose(self) -> ComposeResult:
        if self.message is not None and self.message.reasoning:
            yield self._thinking_block(self.message.reasoning)
        from textual.widgets import Markdown

        yield Markdown(self.message.content if self.message else "", classes="answer-body")

    def _thinking_block(self, reasoning: str) -> Collapsible:
        self._reasoning_text = Static(Content(reasoning), classes="reasoning-text")
        self._thinking_box = Collapsible(
            self._reasoning_text, title="Thinking", collapsed=True, classes="thinking"
        )
        return self._thinking_box

    def _thinking(self) -> tuple[Collapsible, Static]:
        """The thinking block and its text, mounted above the body on first use."""
        if self._thinking_box is None or self._reasoning_text is None:
            self.mount(self._thinking_block(""), before=self.markdown)
        assert self._thinking_box is not None and self._reasoning_text is not None
        return self._thinking_box, self._reasoning_text

    def _part(self, name: str) -> Static:
        """A footer part (see ``FOOTER_PARTS``), mounted in its place on first use."""
        found = self.query_children(f".{name}")
        if found:
            return found.first(Static)
        after: Widget = self.markdown
        for earlier in FOOTER_PARTS[: FOOTER_PARTS.index(name)]:
            if previous := self.query_children(f".{earlier}"):
                after = previous.first()
        part = Static("", classes=name)
        self.mount(part, after=after)
        return part

    def on_mount(self) -> None:
        if self.message is not None:
            self._show_footer(self.message)

    @property
    def markdown(self) -> Markdown:
        from textual.widgets import Markdown

        return self.query_one(".answer-body", Markdown)

    # -- streaming

    def begin_stream(self) -> None:
        """Start accepting streamed text."""
        markdown = self.markdown
        self._stream = markdown.get_stream(markdown)
        self._timer = self.set_interval(FLUSH_INTERVAL, self._flush)
        self.set_status(Content.styled("thinking…", "dim italic"))

    def add_reasoning(self, text: str) -> None:
        if not self._reasoning:
            thinking, _ = self._thinking()
            thinking.collapsed = False
            thinking.title = "Thinking…"
        self._reasoning.append(text)
        self._reasoning_dirty = True

    def add_content(self, text: str) -> None:
        if not self.streamed_text and not self._buffer and not self._buffered:
            if self._reasoning:
                thinking, _ = self._thinking()
                thinking.collapsed = True
                thinking.title = "Thinking"
            self.set_status(Content(""))
        self._buffer.append(text)

    def _stream_busy(self) -> bool:
        # MarkdownStream has no public "idle" flag; its pending list is the backlog.
        return bool(getattr(self._stream, "_pending", None))

    def _take(self) -> str:
        """Up to ``MAX_FLUSH_CHARS`` of the buffered text, cut at a line end if possible."""
        if self._buffer:
            self._buffered += "".join(self._buffer)
            self._buffer.clear()
        text = self._buffered
        if len(text) > MAX_FLUSH_CHARS:
            cut = text.rfind("\n", 0, MAX_FLUSH_CHARS) + 1 or MAX_FLUSH_CHARS
            text = text[:cut]
        self._buffered = self._buffered[len(text) :]
        return text

    async def _flush(self) -> None:
        if self._reasoning_dirty:
            self._reasoning_dirty = False
            _, reasoning_text = self._thinking()
            reasoning_text.update(Content("".join(self._reasoning)))
        if self._stream is None or self._stream_busy():
            return
        text = self._take()
        if text:
            self.streamed_text += text
            await self._stream.write(text)

    async def _drain(self) -> None:
        """Hand the stream everything still buffered, piece by piece, frame by frame."""
        while self._stream is not None and (self._buffer or self._buffered) and self.is_mounted:
            if self._stream_busy():
                await asyncio.sleep(FLUSH_INTERVAL / 4)
                continue
            await self._flush()
            await asyncio.sleep(0)

    async def finish(self, message: Message) -> None:
        """The answer was stored: show its final form.

        The answer is this view's from the first line on, and showing it is shielded:
        Esc while the pane still catches up with a fast answer (already stored complete)
        must neither cut the display short nor make it look unanswered.
        """
        self.message = message
        await asyncio.shield(self._show_final(message))

    async def _show_final(self, message: Message) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        await self._drain()
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if message.reasoning:
            thinking, text = self._thinking()
            text.update(Content(message.reasoning))
            thinking.collapsed = True
            thinking.title = "Thinking"
        if message.content != self.streamed_text:
            # The incremental parser re-parses from the last top-level block on every
            # append, so a fully streamed answer already matches a full parse; only
            # text that never went through the stream needs a full update.
            await self.markdown.update(message.content)
        self._show_footer(message)

    def abandon(self) -> None:
        """The turn ended before an answer was stored: stop streaming, say so."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._stream is not None:
            stream, self._stream = self._stream, None
            self.run_worker(stream.stop(), exit_on_error=False)
        self.set_status(Content.styled("■ stopped before an answer arrived", "italic $warning"))

    # -- footer

    def set_status(self, content: Content) -> None:
        if not content.plain and not self.query_children(".answer-status"):
            return
        status = self._part("answer-status")
        status.update(content)
        status.display = bool(content.plain)

    def show_retrieval(self, summary: str, warning: bool) -> None:
        """What the knowledge-base step found (or why it could not run)."""
        note = self._part("retrieval-note")
        note.set_class(warning, "warning")
        note.update(Content(f"⌕ knowledge base: {summary}"))
        note.display = True

    def show_sources(self, citations: Sequence[Citation]) -> None:
        if not citations and not self.query_children(".sources"):
            return
        sources = self._part("sources")
        sources.update(sources_content(citations, self.full_paths) if citations else Content(""))
        sources.display = bool(citations)

    def toggle_full_paths(self) -> bool:
        """Show the stored answer's sources with full paths, or shortened again."""
        self.full_paths = not self.full_paths
        if self.message is not None:
            self.show_sources(self.message.citations)
        return self.full_paths

    def _show_footer(self, message: Message) -> None:
        if message.citations and not self.query_children(".retrieval-note"):
            passages, files = len(message.citations), len({c.source for c in message.citations})
            self.show_retrieval(
                f"{passages} passage{'s' * (passages != 1)} from {files} file{'s' * (files != 1)}",
                warning=False,
            )
        self.show_sources(message.citations)
        if message.status is MessageStatus.STOPPED:
            self.set_status(
                Content.styled(
                    "■ stopped: partial answer kept (ctrl+g regenerates)", "italic $warning"
                )
            )
        elif message.status is MessageStatus.FAILED:
            self.set_status(
                Content.styled(f"✗ {message.error or 'failed'}  (ctrl+g retries)", "$error")
            )
        else:
            meta = [message.model or ""]
            if message.usage:
                meta.append(
                    f"{message.usage.prompt_tokens}+{message.usage.completion_tokens} tokens"
                )
            self.set_status(Content.styled("  ".join(m for m in meta if m), "dim"))
        if not message.content and message.status is not MessageStatus.COMPLETE:
            self.markdown.display = False


class ChatView(VerticalScroll):
    """The scrolling conversation."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.hidden_count = 0
        self._all: list[Message] = []

    async def show_messages(self, messages: Sequence[Message]) -> None:
        """Replace the pane with a session's messages (the most recent page)."""
        await self.remove_children()
        self.hidden_count = max(0, len(messages) - FIRST_PAGE)
        self._all = list(messages)
        widgets: list[Static | AnswerView | Button] = []
        if self.hidden_count:
            widgets.append(self._earlier_button())
        widgets.extend(self._widget_for(m) for m in messages[self.hidden_count :])
        await self.mount_all(widgets)
        self.anchor()
        self.scroll_end(animate=False, immediate=True)

    def _earlier_button(self) -> Button:
        return Button(
            f"↑ show {min(PAGE_SIZE, self.hidden_count)} earlier of {self.hidden_count}",
            id="earlier",
            compact=True,
        )

    @staticmethod
    def _widget_for(message: Message) -> Static | AnswerView:
        if message.role == "user":
            return UserMessage(message)
        return AnswerView(message)

    @on(Button.Pressed, "#earlier")
    async def _show_earlier(self, event: Button.Pressed) -> None:
        event.stop()
        start = max(0, self.hidden_count - PAGE_SIZE)
        page = self._all[start : self.hidden_count]
        self.hidden_count = start
        await event.button.remove()
        widgets: list[Static | AnswerView | Button] = [self._widget_for(m) for m in page]
        if self.hidden_count:
            widgets.insert(0, self._earlier_button())
        first = self.children[0] if self.children else None
        if first is not None:
            await self.mount_all(widgets, before=first)
        else:
            await self.mount_all(widgets)
        self.post_message(EarlierMessagesRequested())

    async def add_user(self, message: Message) -> None:
        self._all.append(message)
        await self.mount(UserMessage(message))
        self.anchor()

    async def start_answer(self) -> AnswerView:
        view = AnswerView()
        await self.mount(view)
        view.begin_stream()
        self.anchor()
        return view

    async def remove_trailing_answers(self) -> None:
        """Remove the answers (and notices) after the last user message."""
        trailing: list[Widget] = []
        for child in reversed(self.children):
            if isinstance(child, UserMessage):
                break
            if isinstance(child, AnswerView | Notice):
                trailing.append(child)
        if trailing:
            await self.remove_children(trailing)

    async def add_notice(self, text: str, severity: str = "information") -> None:
        await self.mount(Notice(text, severity))
        self.anchor()

    def last_answer(self) -> AnswerView | None:
        answers = self.query(AnswerView)
        return answers.last() if answers else None
