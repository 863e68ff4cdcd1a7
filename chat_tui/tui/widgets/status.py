"""The status line: role, model, knowledge base, and what the current turn is doing.

At 80 columns everything does not fit, so the line is built from parts in order of
use and the least useful go first: the session title (it is in the sidebar and the
terminal title), then the provider name, then the model is shortened; the role and
the knowledge-base state always stay, and a running step replaces the title.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

SEPARATOR = "  ·  "
NARROW_SEPARATOR = " · "


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis (at least one character)."""
    if len(text) <= width:
        return text
    return text[: max(1, width - 1)] + "…"


class StatusLine(Static):
    """One line under the prompt. Values are plain data, never markup."""

    role: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    session_title: reactive[str] = reactive("")
    retrieval: reactive[str] = reactive("")
    step: reactive[str] = reactive("")

    def on_resize(self) -> None:
        self.refresh()

    def _variants(self) -> list[list[Content]]:
        role = Content.styled(f" {self.role} ", "bold reverse")
        tail = (
            Content.styled(self.step, "italic")
            if self.step
            else Content.styled(self.session_title or "no session", "dim")
        )
        model_only = self.model.split(" (", 1)[0]
        retrieval = self.retrieval
        short_kb = retrieval.replace("KB off (ctrl+b)", "KB off")
        full = [role, Content(f"  {self.model}"), Content(SEPARATOR), Content(retrieval)]
        variants = [
            [*full, Content(SEPARATOR), tail],
            [role, Content(f" {model_only}"), Content(NARROW_SEPARATOR), Content(short_kb)]
            + ([Content(NARROW_SEPARATOR), tail] if self.step else []),
            [role, Content(f" {model_only}"), Content(NARROW_SEPARATOR), Content(short_kb)],
        ]
        return variants

    def render(self) -> Content:
        width = self.content_region.width or self.size.width
        variants = self._variants()
        for parts in variants:
            line = Content("").join(parts)
            if not width or line.cell_length <= width:
                return line
        # Even the shortest does not fit: keep role and KB, shorten the model.
        role = Content.styled(f" {self.role} ", "bold reverse")
        kb = self.retrieval.replace("KB off (ctrl+b)", "KB off")
        room = width - role.cell_length - len(kb) - len(NARROW_SEPARATOR) - 1
        model = shorten(self.model.split(" (", 1)[0], max(1, room))
        return Content("").join(
            [role, Content(f" {model}"), Content(NARROW_SEPARATOR), Content(shorten(kb, width))]
        )
