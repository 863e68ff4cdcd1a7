"""Search every session of every role as you type (ctrl+f); Enter opens the message.

The screen only shows: the search runs in the service
(:class:`~chat_tui.services.history_search.HistorySearch`) in a thread, a moment
after the last key (a debounce, so a fast typist does not queue a search per key),
in an exclusive worker (a newer query cancels the older). Matches are highlighted
with styles on plain ``Content``: the text is never read as markup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from chat_tui.domain.text import clean_line
from chat_tui.errors import ChatTuiError
from chat_tui.services.history_search import HistorySearch, SearchHit, SearchResults

#: The pause after a key before searching (a typist's next key usually comes sooner).
DEBOUNCE_SECONDS = 0.12
MATCH_STYLE = "bold reverse"
HINT = "↑/↓ choose · Enter opens the session at that message · Esc closes"


def hit_content(hit: SearchHit) -> Content:
    """Two lines for one hit: title, role, date and who wrote it; the snippet, highlighted."""
    when = datetime.fromtimestamp(hit.created_at).strftime("%Y-%m-%d %H:%M")
    head = Content.assemble(
        Content.styled(hit.session_title, "bold"),
        Content("  "),
        Content.styled(hit.role, "$accent"),
        Content("  "),
        Content.styled(f"{when} · {hit.speaker}", "dim"),
    )
    snippet = Content(hit.snippet.text)
    for start, end in hit.snippet.spans:
        snippet = snippet.stylize(MATCH_STYLE, start, end)
    return Content("\n").join([head, Content("  ").append(snippet)])


def results_summary(results: SearchResults) -> str:
    """The status line: how many matched (newest first when there are more)."""
    count = len(results.hits)
    if not count:
        return "no matches"
    if results.more:
        return f"the newest {count} matches (more: type more words)"
    return "1 match" if count == 1 else f"{count} matches"


class HistorySearchScreen(ModalScreen[SearchHit | None]):
    """A query box over the list of matching messages; dismissed with the chosen hit.

    Args:
        search: the history search service (one per app, so its index stays open).
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", show=False)]

    def __init__(self, search: HistorySearch) -> None:
        super().__init__(classes="dialog-screen", id="history-search")
        self.search = search
        self.results: SearchResults | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog history-search"):
            yield Label(Content("Search all history (every role)"), classes="dialog-title")
            yield Input(placeholder='words, or "a phrase"', id="history-query")
            yield Static(Content(""), id="history-status", classes="dialog-hint")
            yield OptionList(id="history-results")
            yield Static(Content(HINT), classes="dialog-hint")

    def on_mount(self) -> None:
        # Brings the index up to date while the first word is typed (a first search of
        # a large history indexes it: seconds, once).
        self.run_search("", debounce=False)

    @property
    def status(self) -> Static:
        return self.query_one("#history-status", Static)

    @property
    def options(self) -> OptionList:
        return self.query_one("#history-results", OptionList)

    @on(Input.Changed, "#history-query")
    def _query_changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    @work(exclusive=True, group="history-search", exit_on_error=False)
    async def run_search(self, query: str, debounce: bool = True) -> None:
        """Search for ``query`` (cancelled by the next key) and show what it found."""
        if debounce:
            await asyncio.sleep(DEBOUNCE_SECONDS)  # the next key cancels this worker
        if not query.strip():
            self.status.update(Content("updating the index…"))
            try:
                await self.search.prepare_async()
            except ChatTuiError as error:
                self.status.update(Content(clean_line(error)))
                return
            self.results = None
            self.options.clear_options()
            self.status.update(Content("type to search every session of every role"))
            return
        self.status.update(Content("searching…"))
        try:
            results = await self.search.search_async(query)
        except ChatTuiError as error:
            self.status.update(Content(clean_line(error)))
            return
        self.results = results
        options = self.options
        options.set_options(
            Option(hit_content(hit), id=str(number)) for number, hit in enumerate(results.hits)
        )
        if results.hits:
            options.highlighted = 0
        self.status.update(Content(results_summary(results)))

    def _chosen_hit(self, option_id: str | None) -> SearchHit | None:
        if self.results is None or option_id is None:
            return None
        return self.results.hits[int(option_id)]

    @on(Input.Submitted, "#history-query")
    def _open_highlighted(self) -> None:
        option = self.options.highlighted_option
        hit = self._chosen_hit(option.id if option is not None else None)
        if hit is not None:
            self.dismiss(hit)

    @on(OptionList.OptionSelected, "#history-results")
    def _option_chosen(self, event: OptionList.OptionSelected) -> None:
        hit = self._chosen_hit(event.option.id)
        if hit is not None:
            self.dismiss(hit)

    def on_key(self, event: events.Key) -> None:
        """Up/down (and page keys) move through the results while the query has focus."""
        moves: dict[str, Callable[[], None]] = {
            "up": self.options.action_cursor_up,
            "down": self.options.action_cursor_down,
            "pageup": self.options.action_page_up,
            "pagedown": self.options.action_page_down,
        }
        move = moves.get(event.key)
        if move is not None and isinstance(self.focused, Input):
            move()
            event.stop()


__all__ = ["HistorySearchScreen", "hit_content", "results_summary"]
