"""The chat pane: user turns, streamed Markdown answers, thinking blocks, sources.

Answers stream into Textual ``Markdown`` widgets through their public ``append``,
fed from a small buffer that is flushed at most ~30 times a second, so the cost of
rendering does not grow with the rate of tokens. Each flush appends at most
``MAX_FLUSH_CHARS`` characters and waits for the previous append to be on screen:
when text arrives faster than it can be shown, rendering falls behind a little
instead of freezing the app for one huge append (measured: a 14,000-character
burst appended at once stalled the event loop ~350 ms; in pieces of 1,000, no
stall over ~50 ms). ``finish`` drains the rest the same way.

A long answer is split into *segments*, one ``Markdown`` widget per ~8,000
characters, cut at a blank line outside code (or, for one endless paragraph, at a
line end or space near 16,000). ``Markdown.append`` re-parses and re-renders the
last top-level block and re-reads its whole source on every append, so one widget
holding a 1 MB paragraph made each append cost more than the last (18 minutes for
1 MB); with segments every append costs the same and a long answer renders in time
linear in its length. Esc stops the rendering too: text not yet drawn is dropped
from the screen (it is stored; reopening the session shows it).

Finished blocks stop costing time: once laid out, their widgets are captured into
the lines they drew and hidden (``frozen``), so a frame costs the same at the end of
a long answer as at its start.

Only the most recent messages of a long session are mounted; older ones come in
pages as the user scrolls up (the view stays on what it showed while they render), so
opening a 2,000-message session stays fast. Every widget
costs about a millisecond to mount here, so an answer mounts only the parts it
uses: the thinking block, retrieval note, sources and status line appear when
there is something to show. A long stored answer is drawn segment by segment
after it is mounted, the same way as a streamed one.
"""

from __future__ import annotations

import asyncio
import os.path
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Collapsible, Static

from chat_tui.domain.branches import BranchPosition
from chat_tui.domain.models import Citation, Message, MessageStatus
from chat_tui.domain.plurals import passages_summary
from chat_tui.domain.prompt import refused_as_too_long
from chat_tui.domain.source_paths import shorten_sources
from chat_tui.tui.widgets.attachments import user_content
from chat_tui.tui.widgets.branch_switch import BranchSwitch
from chat_tui.tui.widgets.frozen import FrozenBlocks, caught_up, take_finished
from chat_tui.tui.widgets.paging import first_page_size, first_paint_size
from chat_tui.tui.widgets.segments import (
    SEGMENT_CHARS,
    SEGMENT_HARD_CHARS,
    open_fence,
    segment_cut,
)

if TYPE_CHECKING:
    # Imported where first used: markdown-it and Textual's Markdown cost ~60 ms, and the
    # first frame shows no answer (history is mounted just after it).
    from textual.widgets import Markdown

#: Messages shown when a session opens, at most (fewer when they fill the pane several
#: times over, see ``paging``), and per "show earlier" page.
FIRST_PAGE = 14
PAGE_SIZE = 30
#: Scrolled this close to the top of what is mounted, the previous page comes in.
EARLIER_MARGIN = 3
#: The parts under an answer's body, in display order.
FOOTER_PARTS = ("retrieval-note", "sources", "answer-status")
FLUSH_INTERVAL = 1 / 30
#: Characters appended to the Markdown per flush (about 250 tokens).
MAX_FLUSH_CHARS = 1_000
#: The first piece of an answer is small (its first line, at most this much): the first
#: render of a piece costs in proportion to it (a code block's highlighting most), and the
#: first words should be on screen at once; the rest follows a frame later.
FIRST_FLUSH_CHARS = 120
#: With this much not drawn yet, flushes append up to ``CATCH_UP_FLUSH_CHARS``.
CATCH_UP_BACKLOG = 16_000
CATCH_UP_FLUSH_CHARS = 4_000
#: A backlog this small is drawn even after Esc (a few frames' worth).
SMALL_BACKLOG = 4 * MAX_FLUSH_CHARS
#: Finished blocks are frozen (see ``frozen``) once the drawn segment holds this many
#: besides the last: a short answer keeps its widgets, a long one stops adding to them.
FREEZE_BLOCKS = 4
#: At most this many blocks are captured at a time (a fast answer can bring dozens in a
#: frame; capturing them all at once stalled the loop ~60 ms).
FREEZE_MAX_BLOCKS = 8
#: The whole screen is repainted this long after layouts stop, or this often while
#: they go on (see ``ChatView._layout_refreshed``).
REPAINT_SETTLE = 0.1
REPAINT_MAX_WAIT = 0.5


#: The key hint of an answer refused as too long for the model's context window.
RETRY_FEWER_HINT = "ctrl+g: retry with fewer earlier turns"


def retry_hint(message: Message) -> str:
    """What ctrl+g does for a failed answer: after a context-length refusal, it retries
    with fewer earlier turns (see ``ChatService.regenerate``)."""
    if refused_as_too_long(message):
        return RETRY_FEWER_HINT
    return "ctrl+g retries"


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
        super().__init__(user_content(message), classes="user-message")
        self.message = message


class Notice(Static):
    """A one-line notice or error in the chat pane."""

    def __init__(self, text: str, severity: str = "information") -> None:
        super().__init__(Content(text), classes=f"notice {severity}")


class AnswerView(Vertical):
    """One assistant answer: thinking block, Markdown body (in segments), sources, status."""

    def __init__(self, message: Message | None = None) -> None:
        super().__init__(classes="answer")
        self.message = message
        self._buffer: list[str] = []
        self._buffered = ""
        self._reasoning: list[str] = []
        self._reasoning_dirty = False
        self._timer: Timer | None = None
        # Kept by reference: a Collapsible composes its contents a few loop turns after
        # it is mounted, so a query for the text could come up empty in between.
        self._thinking_box: Collapsible | None = None
        self._reasoning_text: Static | None = None
        self._segments: list[Markdown] = []
        self._segment_text = ""  # what the last segment holds
        #: The finished blocks' lines, above the segments still mounted (see ``_freeze``).
        self._frozen: FrozenBlocks | None = None
        self._freeze_due = False
        self._freezing = False
        #: What the last freeze hid: the next one waits for a layout without them.
        self._replaced: list[Widget] = []
        # The piece being appended, in a task of its own (see ``_flush``).
        self._writing: asyncio.Task[None] | None = None
        self._accepting = False
        self._dropped = 0  # characters not drawn because rendering was stopped
        self._filling_history = False
        self.streamed_text = ""
        #: A long stored answer is drawn after mounting, like a stream.
        self._deferred = ""
        if message is not None and len(message.content) > SEGMENT_HARD_CHARS:
            self._deferred = message.content
        self.full_paths = False

    def compose(self) -> ComposeResult:
        if self.message is not None and self.message.reasoning:
            yield self._thinking_block(self.message.reasoning)
        from textual.widgets import Markdown

        shown = self.message.content if self.message and not self._deferred else ""
        body = Markdown(shown, classes="answer-body")
        self._segments = [body]
        if shown:
            self.streamed_text = self._segment_text = shown
        yield body

    def _thinking_block(self, reasoning: str) -> Collapsible:
        self._reasoning_text = Static(Content(reasoning), classes="reasoning-text")
        self._thinking_box = Collapsible(
            self._reasoning_text, title="Thinking", collapsed=True, classes="thinking"
        )
        return self._thinking_box

    def _thinking(self) -> tuple[Collapsible, Static]:
        """The thinking block and its text, mounted above the body on first use."""
        if self._thinking_box is None or self._reasoning_text is None:
            self.mount(self._thinking_block(""), before=self._body_top)
        assert self._thinking_box is not None and self._reasoning_text is not None
        return self._thinking_box, self._reasoning_text

    def _part(self, name: str) -> Static:
        """A footer part (see ``FOOTER_PARTS``), mounted in its place on first use."""
        found = self.query_children(f".{name}")
        if found:
            return found.first(Static)
        after: Widget = self._segments[-1] if self._segments else self.markdown
        for earlier in FOOTER_PARTS[: FOOTER_PARTS.index(name)]:
            if previous := self.query_children(f".{earlier}"):
                after = previous.first()
        part = Static("", classes=name)
        self.mount(part, after=after)
        return part

    def on_mount(self) -> None:
        self.screen.screen_layout_refresh_signal.subscribe(
            self, self._layout_refreshed, immediate=True
        )
        if self.message is not None:
            self._show_footer(self.message)
        if self._deferred:
            self._buffered, self._deferred = self._deferred, ""
            self._accepting = self._filling_history = True
            self._timer = self.set_interval(FLUSH_INTERVAL, self._flush)

    @property
    def _body_top(self) -> Widget:
        """The body's first widget: the frozen lines, or the first segment."""
        return self._frozen if self._frozen is not None else self.markdown

    @property
    def markdown(self) -> Markdown:
        """The first segment of the body (the only one unless the answer is long)."""
        if self._segments:
            return self._segments[0]
        from textual.widgets import Markdown

        return self.query_one(".answer-body", Markdown)

    @property
    def segments(self) -> list[Markdown]:
        """The Markdown widgets of the body's source, in order.

        Finished blocks, and segments made only of them, are hidden once the frozen
        lines (``frozen``) show them; they stay here, with their source and content.
        """
        return list(self._segments)

    @property
    def frozen(self) -> FrozenBlocks | None:
        """The lines of the finished blocks, once there are any."""
        return self._frozen

    # -- streaming

    def begin_stream(self) -> None:
        """Start accepting streamed text."""
        self._accepting = True
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
        if not self._accepting:
            self._dropped += len(text)
            return
        if not self.streamed_text and not self._buffer and not self._buffered:
            if self._reasoning:
                thinking, _ = self._thinking()
                thinking.collapsed = True
                thinking.title = "Thinking"
            self.set_status(Content(""))
        self._buffer.append(text)

    def _take(self) -> str:
        """Up to ``MAX_FLUSH_CHARS`` of the buffered text, cut at a line end if possible."""
        if self._buffer:
            self._buffered += "".join(self._buffer)
            self._buffer.clear()
        text = self._buffered
        # Far behind (a fast server, a long stored answer): bigger pieces, fewer frames.
        # Each frame lays out and draws the pane once, whatever the piece's size.
        limit = MAX_FLUSH_CHARS if len(text) < CATCH_UP_BACKLOG else CATCH_UP_FLUSH_CHARS
        if not self.streamed_text and not self._filling_history:
            limit = FIRST_FLUSH_CHARS
        if len(text) > limit:
            cut = text.rfind("\n", 0, limit) + 1 or limit
            text = text[:cut]
        self._buffered = self._buffered[len(text) :]
        return text

    @property
    def _appending(self) -> bool:
        """Whether a piece is still being appended (drawn)."""
        return self._writing is not None and not self._writing.done()

    async def _flush(self) -> None:
        if self._reasoning_dirty:
            self._reasoning_dirty = False
            _, reasoning_text = self._thinking()
            reasoning_text.update(Content("".join(self._reasoning)))
        if self._appending or not self._accepting or not self.is_mounted:
            return  # the previous append is still being drawn
        text = self._take()
        if not text:
            return
        # The piece is counted as drawn (``streamed_text``) once taken, so it must reach
        # the screen whatever happens to the caller: this runs in the timer's task, and
        # stopping the timer (finishing, Esc) cancels that task. Cancelling the append
        # with it dropped the piece silently: a complete answer with an empty body.
        self._writing = asyncio.create_task(self._write(text))
        await asyncio.shield(self._writing)
        if self._filling_history and not self._buffered and self._timer is not None:
            self._timer.stop()
            self._timer = None
            self._accepting = self._filling_history = False

    async def _write(self, text: str) -> None:
        """Append ``text`` to the body, starting a new segment where one is full."""
        from textual.widgets import Markdown

        while text and self.is_attached:  # the app may quit while a piece is drawn
            cut = segment_cut(self._segment_text, text)
            head, text = (text, "") if cut is None else (text[:cut], text[cut:])
            # A hard cut inside code: close the fence here and open it again below.
            fence = open_fence(self._segment_text + head) if cut is not None else None
            if head:
                self.streamed_text += head
                shown = head + (f"\n{fence[:3]}\n" if fence else "")
                self._segment_text += shown
                await self._segments[-1].append(shown)
                self._schedule_freeze()
            if cut is not None and self.is_attached:
                reopened = f"{fence}\n" if fence else ""
                segment = Markdown(reopened, classes="answer-body answer-more")
                await self.mount(segment, after=self._segments[-1])
                self._segments.append(segment)
                self._segment_text = reopened

    def _schedule_freeze(self) -> None:
        """Freeze finished blocks after the next layout (see ``_layout_refreshed``)."""
        self._freeze_due = True

    def _layout_refreshed(self, _screen: object) -> None:
        """The screen was laid out: a freeze that is due can read the regions now.

        Not ``call_after_refresh``: in a batch update those callbacks run with no layout
        in between (see ``frozen``).
        """
        if self._freeze_due and not self._freezing:
            self.call_next(self.freeze)

    @property
    def freeze_pending(self) -> bool:
        """Whether finished blocks wait to be frozen (after the next layout)."""
        return self._freeze_due or self._freezing

    async def freeze(self) -> None:
        """Draw the finished blocks of the body as lines now (see ``frozen``).

        Runs after each layout while blocks are due. Their widgets stay, hidden: the
        compositor skips them, the DOM still holds the answer (a width or theme change
        shows them again, see ``_thaw``). Until the layout has caught up with the last
        freeze, or while a block is not laid out yet, the freeze waits for the next
        layout; blocks whose slot is stale wait for the next append.
        """
        if self._freezing:
            return
        self._freezing = True
        try:
            await self._freeze()
        finally:
            self._freezing = False

    async def _freeze(self) -> None:
        self._freeze_due = False
        shown = [segment for segment in self._segments if segment.display]
        if not shown or not self.is_attached:
            return
        frozen = self._frozen
        if not caught_up(frozen, self._replaced):
            self._freeze_due = True  # the layout those changes asked for is to come
            return
        self._replaced = []
        width = shown[0].size.width
        if frozen is not None and frozen.lines and frozen.drawn_width != width:
            return  # ``FrozenBlocks.Outdated`` is on its way
        taken = take_finished(shown, keep=FREEZE_BLOCKS, budget=FREEZE_MAX_BLOCKS)
        self._freeze_due = taken.more or taken.retry
        if not taken.lines:
            return
        background = shown[0].background_colors[1]
        # Lines in and widgets out before the next frame: it shows one or the other.
        for widget in taken.replaced:
            widget.display = False
        self._replaced = taken.replaced
        if frozen is None:
            frozen = self._frozen = FrozenBlocks(classes="answer-body answer-frozen")
            frozen.extend(taken.lines, width, background)
            await self.mount(frozen, before=shown[0])
        else:
            frozen.extend(taken.lines, width, background)

    @on(FrozenBlocks.Outdated)
    def _thaw(self, event: FrozenBlocks.Outdated) -> None:
        """The frozen lines are for another width, theme or background: show the
        widgets again (they freeze again as the answer streams on)."""
        event.stop()
        if self._frozen is None:
            return
        self._frozen.clear()
        self._replaced = []
        for segment in self._segments:
            segment.display = True
            for block in segment.children:
                block.display = True
        if self._accepting:
            self._schedule_freeze()

    async def _drain(self) -> None:
        """Append everything still buffered, piece by piece, frame by frame.

        Also waits for the piece in flight, even when drawing was stopped: it was taken
        from the buffer, so only its append puts it on screen.
        """
        while self.is_mounted:
            if self._writing is not None and not self._writing.done():
                # Not awaited directly: its errors reach the app through the timer.
                await asyncio.wait([self._writing])
                continue
            if not (self._accepting and (self._buffer or self._buffered)):
                return
            await self._flush()
            await asyncio.sleep(0)

    @property
    def backlog(self) -> int:
        """Characters received but not drawn yet."""
        return len(self._buffered) + sum(map(len, self._buffer))

    def stop_rendering(self, *, unless_under: int = 0) -> None:
        """Esc: stop drawing. Text not drawn yet is dropped from the screen (not the store).

        Args:
            unless_under: keep drawing when fewer characters than this are left (a
                few frames' worth: the usual case, not worth a notice).
        """
        if not self._accepting or self.backlog < unless_under:
            return
        self._accepting = False
        self._dropped += self.backlog
        self._buffer.clear()
        self._buffered = ""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.message is not None:
            self._show_footer(self.message)

    async def finish(self, message: Message) -> None:
        """The answer was stored: show its final form.

        The answer is this view's from the first line on, and showing it is shielded:
        Esc while the pane still catches up with a fast answer (already stored complete)
        must not make it look unanswered; Esc does stop the drawing (``stop_rendering``).
        """
        self.message = message
        await asyncio.shield(self._show_final(message))

    async def _show_final(self, message: Message) -> None:
        if message.status is not MessageStatus.COMPLETE:
            # Stopped or failed: draw what is left only when that is quick.
            self.stop_rendering(unless_under=SMALL_BACKLOG)
        await self._drain()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        was_accepting, self._accepting = self._accepting, False
        if message.reasoning:
            thinking, text = self._thinking()
            text.update(Content(message.reasoning))
            thinking.collapsed = True
            thinking.title = "Thinking"
        if was_accepting and message.content != self.streamed_text:
            # Appending segment by segment already matches a full parse; only text that
            # never went through the buffer (a sanitizer's tail) needs drawing here.
            if message.content.startswith(self.streamed_text):
                self._accepting = True
                await self._write(message.content[len(self.streamed_text) :])
                self._accepting = False
            elif len(self._segments) == 1 and len(message.content) <= SEGMENT_HARD_CHARS:
                await self.markdown.update(message.content)
                self.streamed_text = self._segment_text = message.content
        self._show_footer(message)

    def abandon(self) -> None:
        """The turn ended before an answer was stored: stop streaming, say so."""
        self._accepting = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
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
                passages_summary(passages, files),
                warning=False,
            )
        self.show_sources(message.citations)
        hidden = (
            f"; {self._dropped:,} more characters stored, not drawn (reopen the session)"
            if self._dropped
            else ""
        )
        if message.status is MessageStatus.STOPPED or message.status.value == "interrupted":
            # A checkpoint left by a crash says so in its error text; Esc leaves none.
            why = message.error or "stopped: partial answer kept"
            self.set_status(
                Content.styled(f"■ {why}{hidden} (ctrl+g regenerates)", "italic $warning")
            )
        elif message.status is MessageStatus.FAILED:
            self.set_status(
                Content.styled(f"✗ {message.error or 'failed'}  ({retry_hint(message)})", "$error")
            )
        else:
            meta = [message.model or "", hidden.lstrip("; ")]
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
        #: While an earlier page renders above: the widget that was on top and how far
        #: below the top of the view it was, so the view stays on it as heights settle.
        self._keep: tuple[Widget, float] | None = None
        self._loading_earlier = False
        #: Set by the screen before ``show_messages``: which version each shown message
        #: with other versions is (each gets a ``BranchSwitch`` line under it).
        self.branch_marks: dict[str, BranchPosition] = {}
        #: ``reveal_message`` holds ``_keep`` until its scroll after the next refresh.
        self._revealing = False
        #: From replacing the pane until its layouts settle ("mounting", "mounted",
        #: "laid out"): the scroll position is Textual's (0 while the new page has no
        #: height yet), not the user's.
        self._opening = ""
        #: The page's messages not mounted yet (``show_messages(paint_first=True)``), and
        #: which opening they belong to (a newer one drops them).
        self._rest: list[Message] = []
        self._opened = 0

    def on_mount(self) -> None:
        self._repaint_timer: Timer | None = None
        self._repaint_due = 0.0
        self.watch(self, "virtual_size", self._follow, init=False)
        self.watch(self, "scroll_y", self._scrolled, init=False)
        self.screen.screen_layout_refresh_signal.subscribe(
            self, self._layout_refreshed, immediate=True
        )

    @property
    def opening(self) -> bool:
        """Whether a session's page is still being mounted or laid out (see ``show_messages``)."""
        return bool(self._opening)

    def _layout_refreshed(self, _screen: object) -> None:
        """After layouts settle (or every ``REPAINT_MAX_WAIT`` while they go on), repaint
        the whole screen once.

        Textual computes a frame laid out while a batch update is open and then drops
        its output (``App.batch_update``: nothing is drawn in a batch, yet the frame's
        dirty regions are cleared), and batches stay open across awaits in
        ``Markdown.append``/``update``, ``recompose`` (the footer recomposes when the
        bindings change) and start-up. What such a frame changed reached the terminal
        only where a later frame happened to cover it: seen in tmux as an answer cut
        short, a blank status line or an empty sidebar that stayed until the next key,
        while the widgets' own state was right. Every such frame follows a layout, which
        the screen's public layout signal reports; the repaint is only marked here and
        drawn when no batch is open.
        """
        if self._opening == "mounted":
            self._opening = "laid out"
        now = time.monotonic()
        if self._repaint_timer is None:
            self._repaint_due = now + REPAINT_MAX_WAIT
        else:
            self._repaint_timer.stop()
        # (A zero-delay Textual timer divides by its interval.)
        delay = max(0.01, min(REPAINT_SETTLE, self._repaint_due - now))
        self._repaint_timer = self.set_timer(delay, self._repaint)

    def _repaint(self) -> None:
        self._repaint_timer = None
        # Layouts have settled: an earlier page has its heights, the place is kept; from
        # here on the scroll position is the user's again (a scrollbar drag included).
        if not self._revealing:
            self._keep = None
        if self._opening == "laid out":
            self._opening = ""
            # A page too short to scroll (or a view left at the top) brings in the one
            # before it, as scrolling up would.
            self._scrolled(self.scroll_y)
        if self.is_attached:
            self.screen.refresh()

    def _follow(self, old: Size, new: Size) -> None:
        """Keep the end in view while it grows, if it was in view before it grew.

        Textual's ``anchor`` alone let the pane stop short of a growing answer now and
        then (seen in tmux under load: the rest of an answer below the fold, no key
        pressed; and a PageDown at the bottom releases the anchor for good). The rule
        here reads only the scroll position: at the bottom before the growth means
        at the bottom after it; scrolled up, the user's place is kept.
        """
        if self._keep is not None:
            widget, offset = self._keep
            if widget.is_attached:
                self.scroll_to(y=widget.virtual_region.y - offset, animate=False, immediate=True)
                return
            self._keep = None
        if new.height <= old.height:
            return
        visible = self.container_size.height - self.scrollbar_size_horizontal
        if self.scroll_y >= old.height - visible - 1:
            self.scroll_end(animate=False, immediate=True)

    def scroll_by_key(self, where: str) -> None:
        """PageUp/PageDown, ctrl+home/ctrl+end: scroll now, not after the next frame.

        Textual's ``scroll_page_down`` and friends scroll after a refresh and let go of
        the anchor again when they do: a PageDown pressed at the bottom of a growing
        answer then pulled the pane back to where the bottom *had* been. Reaching the
        end goes through ``scroll_end``, which keeps following.
        """
        self._keep = None
        if where in ("page_up", "home") and self.scroll_y <= EARLIER_MARGIN:
            self.call_later(self.show_earlier)
        page = max(1, self.container_size.height - 1)
        if where == "end" or (where == "page_down" and self.scroll_y + page >= self.max_scroll_y):
            self.scroll_end(animate=False, immediate=True)
        elif where == "page_down":
            self.scroll_to(y=self.scroll_y + page, animate=False, immediate=True)
        elif where == "page_up":
            self.scroll_to(y=max(0, self.scroll_y - page), animate=False, immediate=True)
        elif where == "home":
            self.scroll_to(y=0, animate=False, immediate=True)

    async def show_messages(
        self, messages: Sequence[Message], *, paint_first: bool = False
    ) -> None:
        """Replace the pane with a session's messages (the most recent page).

        With ``paint_first`` (opening a session) only the messages that fill the pane are
        mounted before this returns; the rest of the page follows above them after the
        frame, a screen at a time (see ``paging``).
        """
        self._keep = None
        self._opening = "mounting"
        self._opened += 1
        self._rest = []
        try:
            await self.remove_children()
            width, height = self.size.width, self.size.height
            page = first_page_size(messages, width, height, FIRST_PAGE)
            self.hidden_count = max(0, len(messages) - page)
            self._all = list(messages)
            shown = list(messages[self.hidden_count :])
            if paint_first:
                cut = len(shown) - first_paint_size(shown, width, height)
                self._rest, shown = shown[:cut], shown[cut:]
            widgets: list[Static | AnswerView | Button] = []
            if self.hidden_count and not self._rest:
                widgets.append(self._earlier_button())
            widgets.extend(self._widgets_for(shown))
            await self.mount_all(widgets)
        finally:
            self._opening = "mounting" if self._rest else "mounted"
        self.anchor()
        self.scroll_end(animate=False, immediate=True)
        if self._rest:
            self.call_after_refresh(self._mount_rest, self._opened)

    async def _mount_rest(self, opened: int, *, everything: bool = False) -> None:
        """Mount the next screen of the page above what is shown (all of it: ``everything``)."""
        if opened != self._opened or not self._rest:
            return
        rest = self._rest
        count = len(rest) if everything else first_paint_size(rest, *self.size)
        page, self._rest = rest[len(rest) - count :], rest[: len(rest) - count]
        widgets = self._widgets_for(page)
        if self.hidden_count and not self._rest:
            widgets.insert(0, self._earlier_button())
        # Scrolled up: hold the user's place; at the end the view stays at the end.
        await self._mount_above(widgets, hold=self.scroll_y < self.max_scroll_y - 1)
        if self._rest:
            self.call_after_refresh(self._mount_rest, opened)
        elif opened == self._opened:
            self._opening = "mounted"

    async def finish_page(self) -> None:
        """Mount what is left of the page being opened now (before looking for a message)."""
        await self._mount_rest(self._opened, everything=True)

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

    def _widgets_for(self, messages: Sequence[Message]) -> list[Static | AnswerView | Button]:
        """Message widgets, each with its "‹ 2/3 ›" line when it has other versions."""
        widgets: list[Static | AnswerView | Button] = []
        for message in messages:
            widgets.append(self._widget_for(message))
            position = self.branch_marks.get(message.id)
            if position is not None:
                widgets.append(BranchSwitch(message.id, position, message.role))
        return widgets

    def on_mouse_scroll_up(self) -> None:
        self._keep = None  # the user moves: stop holding the place

    def on_mouse_scroll_down(self) -> None:
        self._keep = None

    def _scrolled(self, y: float) -> None:
        """Near the top of what is mounted: bring in the page of messages before it."""
        if self._opening:
            # Opening a session: the pane is at 0 until the new page is laid out; loading
            # the page before it then cost as much again as opening (seen: 30 more
            # messages mounted on every open of a long session).
            return
        if self.hidden_count and y <= EARLIER_MARGIN and not self._loading_earlier:
            self.call_later(self.show_earlier)

    @on(Button.Pressed, "#earlier")
    async def _earlier_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.show_earlier()

    async def show_earlier(self) -> None:
        """Mount the previous ``PAGE_SIZE`` messages above, keeping the view where it is.

        Scrolling up brings them in (no "show earlier" step); the button stays as the
        mouse's way and says how many are left.
        """
        if not self.hidden_count or self._loading_earlier:
            return
        self._loading_earlier = True
        try:
            await self.finish_page()
            start = max(0, self.hidden_count - PAGE_SIZE)
            page = self._all[start : self.hidden_count]
            self.hidden_count = start
            await self.query("#earlier").remove()
            widgets: list[Static | AnswerView | Button] = self._widgets_for(page)
            if self.hidden_count:
                widgets.insert(0, self._earlier_button())
            await self._mount_above(widgets, hold=True)
        finally:
            self._loading_earlier = False

    async def _mount_above(
        self, widgets: list[Static | AnswerView | Button], *, hold: bool
    ) -> None:
        """Mount ``widgets`` above what is shown; with ``hold``, what the user sees stays put
        while their heights settle (``_keep``)."""
        first = self.children[0] if self.children else None
        if first is None:
            await self.mount_all(widgets)
            return
        if hold:
            self._keep = (first, first.virtual_region.y - self.scroll_y)
        await self.mount_all(widgets, before=first)

    async def reveal_message(self, message_id: str) -> Widget | None:
        """Mount the shown session's message ``message_id`` and scroll it to the top.

        Earlier pages are mounted down to it as scrolling up would; the view then holds
        it in place while their heights settle (``_keep``).

        Returns:
            Its widget, or None when the session shown has no such message.
        """
        index = next((i for i, m in enumerate(self._all) if m.id == message_id), None)
        if index is None:
            return None
        await self.finish_page()
        for _ in range(len(self._all)):  # bounded: each round mounts a page or waits one
            if self.hidden_count <= index:
                break
            before = self.hidden_count
            await self.show_earlier()
            if self.hidden_count == before:
                await asyncio.sleep(0)  # a page already on its way (scrolling) mounts first
        for child in self.children:
            if not isinstance(child, UserMessage | AnswerView) or child.message is None:
                continue
            if child.message.id == message_id:
                self.anchor(False)  # not following the end; a new turn anchors it again
                self._keep = (child, 0.0)
                self._revealing = True
                self.call_after_refresh(self._scroll_to_kept)
                return child
        return None

    def _scroll_to_kept(self) -> None:
        self._revealing = False
        if self._keep is not None and self._keep[0].is_attached:
            widget, offset = self._keep
            self.scroll_to(y=widget.virtual_region.y - offset, animate=False, immediate=True)

    async def add_user(self, message: Message) -> None:
        self._keep = None
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
            if isinstance(child, AnswerView | Notice | BranchSwitch):
                trailing.append(child)
        if trailing:
            await self.remove_children(trailing)

    async def add_notice(self, text: str, severity: str = "information") -> None:
        await self.mount(Notice(text, severity))
        self.anchor()

    def last_answer(self) -> AnswerView | None:
        answers = self.query(AnswerView)
        return answers.last() if answers else None


__all__ = [
    "SEGMENT_CHARS",
    "SEGMENT_HARD_CHARS",
    "SMALL_BACKLOG",
    "AnswerView",
    "ChatView",
    "Notice",
    "UserMessage",
]
