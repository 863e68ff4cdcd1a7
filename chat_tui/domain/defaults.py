"""The one sentinel for "build the default from the settings", typed.

Why: a few entry points take an optional collaborator where None already means
something ("no embedder: BM25 only", "no retrieval step"), so leaving it out needs a
third value. They used two (the string ``"default"`` and ``...``), each with its own
test; one enum member is a type of its own, so mypy narrows ``x is DEFAULT`` and no
string can pass for it.
"""

from __future__ import annotations

import enum
from typing import Final


class Default(enum.Enum):
    """The type of ``DEFAULT``: an argument left out, so the callee builds its default."""

    BUILD = "build the default"

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Final = Default.BUILD
"""Pass (or leave) this to have the callee build the collaborator from the settings."""
