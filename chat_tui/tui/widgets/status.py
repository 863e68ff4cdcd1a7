"""The status line: role, model, session, and what the current turn is doing."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static


class StatusLine(Static):
    """One line under the prompt. Values are plain data, never markup."""

    role: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    session_title: reactive[str] = reactive("")
    retrieval: reactive[str] = reactive("")
    step: reactive[str] = reactive("")

    def render(self) -> Content:
        parts = [
            Content.styled(f" {self.role} ", "bold reverse"),
            Content(f"  {self.model}"),
            Content("  ·  "),
            Content(self.retrieval),
        ]
        if self.step:
            parts += [Content("  ·  "), Content.styled(self.step, "italic")]
        else:
            parts += [Content("  ·  "), Content.styled(self.session_title or "no session", "dim")]
        return Content("").join(parts)
