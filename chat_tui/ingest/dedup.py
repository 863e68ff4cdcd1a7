"""Duplicate chunks within a knowledge base: one key per passage, and an ingest's bookkeeping.

Why it exists: real documentation repeats itself. Sphinx puts "This Page / Report a
Bug / Show Source" on every page, licences repeat paragraphs, a page is copied into
two folders. Storing each copy costs an embedding, a row and, worse, fills the top
hits with one text. Chunks whose *key* is equal are the same passage: the key is a
hash of the text normalised so that copies that differ only in case, punctuation,
full-width forms (NFKC) or whitespace collapse, while different words never do
(:mod:`chat_tui.retrieval.chunk_key`, re-exported here).

This module is pure (no I/O): :class:`DuplicateBook`, which
decides, in the order files are chunked, which chunk is stored and which ones are
recorded as copies of it (with their own sources, for citations).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chat_tui.retrieval.chunk_key import dedup_key, normalise
from chat_tui.retrieval.types import Chunk

__all__ = ["DuplicateBook", "FileSplit", "dedup_key", "normalise"]


@dataclass
class FileSplit:
    """One file's chunks split by :meth:`DuplicateBook.split`.

    Attributes:
        stored: chunks seen first here: stored (and embedded).
        copies: ``(chunk, key)`` of chunks already stored elsewhere, recorded as copies.
    """

    stored: list[Chunk] = field(default_factory=list)
    copies: list[tuple[Chunk, str]] = field(default_factory=list)


class DuplicateBook:
    """Which passage is stored by which file, within one ingest (in chunking order).

    Args:
        known: keys already stored in the knowledge base by other files (their chunks
            are copies here from the start).
    """

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._owner: dict[str, str] = dict.fromkeys(known, "")
        self._sources: dict[str, list[str]] = {}

    def split(self, chunks: Sequence[Chunk]) -> FileSplit:
        """Split a file's chunks into the first of each passage and the copies."""
        result = FileSplit()
        for chunk in chunks:
            key = dedup_key(chunk.text)
            if key in self._owner:
                result.copies.append((chunk, key))
            else:
                self._owner[key] = chunk.source
                result.stored.append(chunk)
            self._sources.setdefault(key, []).append(chunk.source)
        return result

    def forget(self, source: str) -> None:
        """Release the passages ``source`` claimed (the file was refused, never stored)."""
        for key in [k for k, owner in self._owner.items() if owner == source]:
            del self._owner[key]

    def sources(self, key: str) -> list[str]:
        """Every source seen with the passage ``key`` in this ingest, in order."""
        return list(self._sources.get(key, ()))

    def repeated(self) -> list[tuple[str, int]]:
        """``(key, occurrences)`` of the passages seen more than once, most repeated first."""
        counts = [(key, len(sources)) for key, sources in self._sources.items()]
        return sorted(
            (item for item in counts if item[1] > 1), key=lambda item: (-item[1], item[0])
        )
