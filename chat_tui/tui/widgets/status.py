"""The status line: role, model, knowledge base, context gauge, and what the turn is doing.

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
    #: The full and the compact gauge label, and its level ("ok", "filling", "trimmed").
    context: reactive[str] = reactive("")
    context_compact: reactive[str] = reactive("")
    context_level: reactive[str] = reactive("ok")

    def _gauge(self, compact: bool) -> list[Content]:
        label = self.context_compact if compact else self.context
        if not label:
            return []
        style = {"filling": "$text-warning", "trimmed": "bold $text-error"}.get(
            self.context_level, ""
        )
        separator = NARROW_SEPARATOR if compact else SEPARATOR
        return [Content(separator), Content.styled(label, style) if style else Content(label)]

    def on_resize(self) -> None:
        self.refresh()

    def render(self) -> Content:
        width = self.content_region.width or self.size.width
        role = Content.styled(f" {self.role} ", "bold reverse")
        tail_text = self.step or self.session_title or "no session"
        tail_style = "italic" if self.step else "dim"
        full = Content("").join(
            [
                role,
                Content(f"  {self.model}"),
                Content(SEPARATOR),
                Content(self.retrieval),
                *self._gauge(compact=False),
                Content(SEPARATOR),
                Content.styled(tail_text, tail_style),
            ]
        )
        if not width or full.cell_length <= width:
            return full
        # Compact: the model without its provider, the short KB state, then what is
        # left for the step (or title), cut to fit; the model is cut last.
        kb = self.retrieval.replace("KB off (ctrl+b)", "KB off")
        model = self.model.split(" (", 1)[0]
        gauge = self._gauge(compact=True)
        base_len = role.cell_length + 1 + len(model) + len(NARROW_SEPARATOR) + len(kb)
        base_len += sum(part.cell_length for part in gauge)
        room = width - base_len - len(NARROW_SEPARATOR)
        if room < 8 and gauge:
            # No room left for the step: a running step says more than the gauge.
            base_len -= sum(part.cell_length for part in gauge)
            room = width - base_len - len(NARROW_SEPARATOR)
            gauge = []
        if room < 8:
            model = shorten(model, max(4, len(model) + min(0, width - base_len)))
            return Content("").join(
                [role, Content(f" {model}"), Content(NARROW_SEPARATOR), Content(shorten(kb, width))]
            )
        return Content("").join(
            [
                role,
                Content(f" {model}"),
                Content(NARROW_SEPARATOR),
                Content(kb),
                *gauge,
                Content(NARROW_SEPARATOR),
                Content.styled(shorten(tail_text, room), tail_style),
            ]
        )
