"""Search the knowledge base from inside the app (F3), as the chat's retrieval would."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from chat_tui.domain.plurals import passages_summary
from chat_tui.domain.text import clean_line, strip_terminal_controls
from chat_tui.errors import ChatTuiError
from chat_tui.services.bootstrap import AppServices


class KnowledgeSearchScreen(ModalScreen[None]):
    """Type a query, see the passages and their sources."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", show=False)]

    def __init__(self, services: AppServices, knowledge_base: str) -> None:
        super().__init__(classes="dialog-screen", id="kb-search")
        self.services = services
        self.knowledge_base = knowledge_base

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog kb-search"):
            yield Label(
                Content(f"Search knowledge base “{self.knowledge_base}”"), classes="dialog-title"
            )
            yield Input(placeholder="query, then Enter", id="kb-query")
            yield Static("", id="kb-status", classes="dialog-hint")
            yield VerticalScroll(id="kb-results")

    @on(Input.Submitted, "#kb-query")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.query_one("#kb-status", Static).update(Content("searching…"))
            self.run_search(event.value.strip())

    @work(exclusive=True, group="kb-search", exit_on_error=False)
    async def run_search(self, query: str) -> None:
        from chat_tui.services.knowledge import search

        status = self.query_one("#kb-status", Static)
        results = self.query_one("#kb-results", VerticalScroll)
        try:
            found = await search(
                self.services.chat.settings,
                self.knowledge_base,
                query,
                self.services.settings.retrieval.top_k,
            )
        except ChatTuiError as error:
            status.update(Content(clean_line(error)))
            return
        except Exception as error:  # noqa: BLE001 - say it in one line, keep the dialog usable
            status.update(Content(f"search failed ({type(error).__name__}); see the log"))
            return
        await results.remove_children()
        files = len({p.chunk.source for p in found.passages})
        summary = passages_summary(len(found.passages), files)
        status.update(Content(f"{summary} ({found.notice})" if found.notice else summary))
        widgets = []
        for number, passage in enumerate(found.passages, start=1):
            head = Content.styled(
                f"[{number}] {passage.citation().label()}  score {passage.score:.3f}", "bold"
            )
            body = Content(strip_terminal_controls(passage.chunk.text.strip())[:1200])
            widgets.append(Static(Content("\n").join([head, body]), classes="kb-result"))
        await results.mount_all(widgets)
