"""Collapsing runs of blank lines in text rebuilt from markup (HTML now, any converter later).

Why its own module: the HTML converter needs it and the loaders call the converter, so
while it lived in ``loaders`` the two modules imported each other. It sits below both.
"""

from __future__ import annotations

import re

_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def tidy_blank_lines(text: str) -> str:
    """Collapse runs of blank lines to one blank line, and strip the ends."""
    return _BLANK_RUNS.sub("\n\n", text).strip()
