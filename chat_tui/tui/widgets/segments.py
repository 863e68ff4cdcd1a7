"""Where a long answer is cut into Markdown segments (see ``chat_view``).

Textual's ``Markdown.append`` re-reads the widget's whole source and re-renders its
last block on every append, so one widget holding a long answer costs more with
every piece. The chat pane keeps each widget small instead; these rules decide
where one segment ends, without breaking a code block or a paragraph when there is
a better place. Plain functions of text, so they are tested without an app.
"""

from __future__ import annotations

#: A segment ends at a blank line (outside code) once it is this long...
SEGMENT_CHARS = 8_000
#: ...or, with no blank line, at a line end or space once it is this long.
SEGMENT_HARD_CHARS = 16_000
_FENCES = ("```", "~~~")


def open_fence(text: str) -> str | None:
    """The opening line of a code fence left open at the end of ``text``, or None."""
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.lstrip()
        if fence is None:
            if stripped.startswith(_FENCES):
                fence = stripped
        elif stripped.startswith(fence[:3]) and not stripped[3:].strip():
            fence = None
    return fence


def segment_cut(segment: str, text: str) -> int | None:
    """Where ``text`` must be cut so the current ``segment`` stays small, or None.

    Returns the number of leading characters of ``text`` that still belong to the
    segment; the rest starts a new one.
    """
    if len(segment) + len(text) <= SEGMENT_CHARS:
        return None
    room = max(0, SEGMENT_HARD_CHARS - len(segment))
    blank = text.rfind("\n\n", 0, room)
    while blank >= 0 and len(segment) + blank >= SEGMENT_CHARS // 2:
        if open_fence(segment + text[:blank]) is None:
            return blank + 2
        blank = text.rfind("\n\n", 0, blank)
    if len(segment) + len(text) <= SEGMENT_HARD_CHARS:
        return None
    for mark in ("\n", " "):
        at = text.rfind(mark, 0, room)
        if at >= 0 and len(segment) + at >= SEGMENT_CHARS // 2:
            return at + 1
    return room


__all__ = ["SEGMENT_CHARS", "SEGMENT_HARD_CHARS", "open_fence", "segment_cut"]
