"""Short source paths for the lines under an answer.

Full paths like ``/home/ana/projects/handbook/ops/team.md`` break mid-word at 80
columns and repeat the same folder on every line. The folder all sources of an
answer share is said once (with ``~`` for the home directory) and each source is
shown relative to it; the full path stays stored and one keystroke away (the chat's
``p``). The shared folder stands in for the ingested folder, which the citations do
not record.
"""

from __future__ import annotations

import os.path
from collections.abc import Sequence


def with_tilde(path: str, home: str) -> str:
    """``path`` with the home directory written as ``~``."""
    home = home.rstrip("/")
    if home and (path == home or path.startswith(home + "/")):
        return "~" + path[len(home) :]
    return path


def shorten_sources(sources: Sequence[str], home: str) -> tuple[str, list[str]]:
    """The folder shared by ``sources`` and each source relative to it.

    Returns:
        ``(folder, relative)``: ``folder`` with ``~`` ("" when the sources share no
        folder worth naming, e.g. only ``/``, or are not absolute paths), and the
        sources in the same order, relative to it (or with ``~`` when ``folder`` is "").
    """
    if not sources:
        return "", []
    absolute = all(s.startswith("/") for s in sources)
    folder = ""
    if absolute:
        try:
            folder = os.path.commonpath([os.path.dirname(s) for s in sources])
        except ValueError:
            folder = ""
    if not folder or folder == "/":
        return "", [with_tilde(s, home) for s in sources]
    relative = [s[len(folder) :].lstrip("/") or os.path.basename(s) for s in sources]
    return with_tilde(folder, home), relative


__all__ = ["shorten_sources", "with_tilde"]
