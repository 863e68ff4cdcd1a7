"""Search across every session of every role: one code path for ``chat-tui search`` and ctrl+f.

The index is :mod:`chat_tui.storage.history_search`; this turns what it found into
results a front end can show as they are: the session's title, role and date, and a
one-line snippet around the first match, cleaned of terminal controls, with the
places of the matched words in it (the TUI highlights them with styles, the CLI with
its own SGR codes; neither builds markup from the text).
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from chat_tui.domain.search_text import match_spans, parse_query
from chat_tui.domain.text import clean_line, clean_text
from chat_tui.errors import StorageError
from chat_tui.storage.history_search import HistorySearchIndex, IndexedMessage

#: Characters of a snippet: about one line of a wide terminal.
SNIPPET_CHARS = 120
#: Of which, before the first match (so a match far into a message shows its context).
SNIPPET_LEAD = 30
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Snippet:
    """One line of a message around its first match; ``spans`` are the matches in ``text``."""

    text: str
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class SearchHit:
    """One message that matched, with its session (all text safe to show as it is)."""

    session_id: str
    session_title: str
    role: str
    message_id: str
    speaker: str
    created_at: float
    snippet: Snippet

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``: the fields, the snippet's spans as ``[start, end]`` lists."""
        data = asdict(self)
        data["snippet"] = self.snippet.text
        data["spans"] = [list(span) for span in self.snippet.spans]
        return data


@dataclass(frozen=True)
class SearchResults:
    """Hits, newest first; ``more`` when the limit cut the list short."""

    query: str
    hits: list[SearchHit]
    more: bool
    reindexed: int


def _collapse(piece: str) -> str:
    """Whitespace runs (newlines too) as one space, then anything left made visible."""
    collapsed = " ".join(piece.split())
    if piece[:1].isspace() and collapsed:
        collapsed = " " + collapsed
    if piece[-1:].isspace() and collapsed:
        collapsed += " "
    return clean_line(collapsed or (" " if piece else ""))


def make_snippet(content: str, spans: list[tuple[int, int]], width: int = SNIPPET_CHARS) -> Snippet:
    """A one-line excerpt of ``content`` around ``spans[0]`` with the spans inside it.

    Args:
        content: the message text (already cleaned of escape sequences).
        spans: matches in ``content``, sorted (see ``match_spans``).
        width: about how many characters of ``content`` to keep.
    """
    start = 0
    if spans and spans[0][1] > width - SNIPPET_LEAD:
        start = spans[0][0] - SNIPPET_LEAD
        space = content.rfind(" ", max(0, start - 10), start)
        start = space + 1 if space != -1 else start
    end = min(len(content), start + width)
    if spans and spans[0][1] > end:
        end = min(len(content), spans[0][1])
    parts: list[str] = ["…" if start > 0 else ""]
    shown: list[tuple[int, int]] = []
    length = len(parts[0])
    position = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end or span_start < position:
            continue
        before = _collapse(content[position:span_start])
        match = _collapse(content[span_start:span_end]).strip()
        parts.extend([before, match])
        length += len(before)
        shown.append((length, length + len(match)))
        length += len(match)
        position = span_end
    parts.append(_collapse(content[position:end]))
    text = "".join(parts).rstrip()
    if end < len(content):
        text += " …"
    return Snippet(text.lstrip() if not shown else text, tuple(shown))


def _hit(found: IndexedMessage, terms: Any) -> SearchHit:
    content = clean_text(found.content)
    return SearchHit(
        session_id=found.session_id,
        session_title=clean_line(found.title),
        role=clean_line(found.role),
        message_id=found.message_id,
        speaker=clean_line(found.speaker),
        created_at=found.created_at,
        snippet=make_snippet(content, match_spans(content, terms)),
    )


class HistorySearch:
    """Full-text search over one history directory.

    Args:
        history_dir: the history directory (``settings.history_dir``).
    """

    def __init__(self, history_dir: Path) -> None:
        self.index = HistorySearchIndex(history_dir, memory_fallback=True)

    def search(
        self, query: str, role: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> SearchResults:
        """Messages matching ``query``, newest first (blocking: may index files first).

        Raises:
            StorageError: the index or the history cannot be read (one line).
        """
        try:
            found = self.index.search(query, role, limit)
        except (sqlite3.Error, OSError) as error:
            raise self._failed(error) from None
        terms = parse_query(query)
        hits = [_hit(message, terms) for message in found.messages]
        return SearchResults(query, hits, found.more, found.reindexed)

    def prepare(self) -> int:
        """Bring the index up to date with the files (blocking); how many were indexed.

        Raises:
            StorageError: the index or the history cannot be read (one line).
        """
        try:
            return self.index.refresh()
        except (sqlite3.Error, OSError) as error:
            raise self._failed(error) from None

    async def prepare_async(self) -> int:
        """``prepare`` in a thread (a front end runs it as its search box opens)."""
        return await asyncio.to_thread(self.prepare)

    def _failed(self, error: Exception) -> StorageError:
        self.index.close()  # opened afresh next time
        return StorageError(
            f"Cannot search the history in {clean_line(self.index.history_dir)}: "
            f"{clean_line(error)}."
        )

    async def search_async(
        self, query: str, role: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> SearchResults:
        """``search`` in a thread, for a front end's event loop."""
        return await asyncio.to_thread(self.search, query, role, limit)

    def close(self) -> None:
        self.index.close()


__all__ = ["HistorySearch", "SearchHit", "SearchResults", "Snippet", "make_snippet"]
