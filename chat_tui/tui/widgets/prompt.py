"""The multi-line prompt: Enter sends, shift+enter or ctrl+j insert a newline."""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea

from chat_tui.tui.messages import PromptSubmitted

NEWLINE_KEYS = {"shift+enter", "ctrl+j", "alt+enter"}


class PromptInput(TextArea):
    """A TextArea that posts ``PromptSubmitted`` on Enter."""

    DEFAULT_CSS = """
    PromptInput {
        height: auto;
        min-height: 3;
        max-height: 10;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=False,
            placeholder="Ask anything…  (Enter sends, ctrl+j new line, F1 help)",
        )

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text
            if text.strip():
                self.post_message(PromptSubmitted(text))
                self.clear()
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        await super()._on_key(event)
