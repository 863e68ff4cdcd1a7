"""Counted phrases shown to people ("1 passage from 1 file"), written once, plural-correct.

Why: the chat service, the knowledge-base search screen and the answer footer each wrote
"N passages from M files" themselves, and one of them said "1 passages from 1 files".
"""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun`` in the right number: "1 file", "2 files", "0 files".

    Args:
        count: how many.
        noun: the singular.
        plural: the plural when it is not ``noun + "s"``.
    """
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def passages_summary(passages: int, files: int) -> str:
    """What retrieval found: "3 passages from 2 files", or "no matching passages"."""
    if passages <= 0:
        return "no matching passages"
    return f"{counted(passages, 'passage')} from {counted(files, 'file')}"
