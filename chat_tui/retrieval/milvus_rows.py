"""The rows a knowledge-store write inserts: one per chunk, checked, cut into requests.

Why a module of its own: turning chunks into Milvus rows (field limits, ``-1`` for
None, optional fields by schema) and checking a write's arguments is pure data work,
separate from the all-or-none protocol in :mod:`chat_tui.retrieval.milvus_store`
that sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chat_tui.errors import RetrievalError
from chat_tui.retrieval.chunk_key import dedup_key
from chat_tui.retrieval.milvus_schema import (
    ANCHOR_MAX_BYTES,
    HASH_MAX_BYTES,
    HEADING_MAX_BYTES,
    OUTPUT_FIELDS,
    SEARCH_TEXT_FIELD,
    SOURCE_MAX_BYTES,
    TEXT_MAX_BYTES,
    truncate_utf8,
)
from chat_tui.retrieval.milvus_schema import search_text as bm25_text
from chat_tui.retrieval.types import Chunk

#: One file to store: ``(source, file_hash, chunks, vectors or None)``; a vector may be
#: None for a chunk the caller expects to be a copy (see ``MissingVectors``).
FileWrite = tuple[str, str, Sequence[Chunk], Sequence[Sequence[float] | None] | None]


@dataclass(frozen=True)
class Layout:
    """What a KB's chunks collection has (read from its schema when the store opens it)."""

    #: The dense dimension, or None for a BM25-only KB.
    dense_dim: int | None = None
    #: The ``LOCATION_FIELDS`` the collection has.
    locations: tuple[str, ...] = ()
    #: Whether BM25 reads ``search_text`` (KBs made since it exists), not ``text``.
    search_text: bool = False

    @property
    def dedup(self) -> bool:
        """Whether this KB stores passages once (its chunks have the ``key`` field)."""
        return "key" in self.locations

    def fields(self, *, dense: bool = False) -> list[str]:
        """The chunk fields searches return (and the vector too, for ``dense``, if any)."""
        vector = ["dense"] if dense and self.dense_dim else []
        return [*OUTPUT_FIELDS, *self.locations, *vector]


def chunk_row(
    chunk: Chunk,
    version: str,
    file_hash: str,
    vector: Sequence[float] | None,
    *,
    locations: Sequence[str],
    dense_dim: int | None,
    search_text: bool = False,
) -> dict[str, Any]:
    """The chunks-collection row of ``chunk`` in ``version`` (fields the KB has only)."""
    row: dict[str, Any] = {
        "id": f"{truncate_utf8(chunk.id, 400)}:{version}",
        "source": chunk.source,
        "file_hash": file_hash,
        "version": version,
        "heading": truncate_utf8(chunk.heading, HEADING_MAX_BYTES),
        "text": truncate_utf8(chunk.text, TEXT_MAX_BYTES),
        "line_start": -1 if chunk.line_start is None else chunk.line_start,
        "line_end": -1 if chunk.line_end is None else chunk.line_end,
        "page": -1 if chunk.page is None else chunk.page,
        "idx": chunk.index,
    }
    if "anchor" in locations:
        row["anchor"] = truncate_utf8(chunk.anchor, ANCHOR_MAX_BYTES)
    if "root" in locations:
        row["root"] = truncate_utf8(chunk.root, SOURCE_MAX_BYTES)
    if "key" in locations:
        row["key"] = dedup_key(chunk.text)
    if search_text:
        row[SEARCH_TEXT_FIELD] = bm25_text(chunk.source, chunk.heading, chunk.text, chunk.summary)
    if dense_dim:
        row["dense"] = [float(x) for x in vector] if vector is not None else None
    return row


def check_write(item: FileWrite, *, knowledge_base: str, dense_dim: int | None) -> None:
    """Refuse a write the KB cannot store, before anything is written.

    Raises:
        RetrievalError: a path or hash too long, or vectors missing, miscounted or of
            another dimension than the KB's.
    """
    source, file_hash, chunks, vectors = item
    if len(source.encode("utf-8")) > SOURCE_MAX_BYTES:
        raise RetrievalError(f"path too long for the knowledge base: {source[:80]}...")
    if len(file_hash.encode("utf-8")) > HASH_MAX_BYTES:
        raise RetrievalError("file hash longer than 128 bytes")
    if not dense_dim:
        return
    if vectors is None and chunks:
        raise RetrievalError(
            f"knowledge base {knowledge_base!r} stores dense vectors: set JINA_API_KEY "
            "(or embedding.*) or re-ingest with --rebuild"
        )
    if vectors is not None and len(vectors) != len(chunks):
        raise RetrievalError(f"{len(chunks)} chunks but {len(vectors)} vectors for {source}")
    if vectors and any(v is not None and len(v) != dense_dim for v in vectors):
        raise RetrievalError(
            f"knowledge base {knowledge_base!r} stores {dense_dim}-dimensional "
            "vectors; re-ingest with --rebuild to change the embedding model or dimensions"
        )


def insert_requests(
    items: Sequence[FileWrite],
    versions: Sequence[str],
    *,
    request_bytes: int,
    locations: Sequence[str],
    dense_dim: int | None,
    search_text: bool = False,
) -> list[list[dict[str, Any]]]:
    """All files' rows, cut into insert requests of at most ``request_bytes`` (estimated)."""
    requests: list[list[dict[str, Any]]] = [[]]
    size = 0
    vector_bytes = 4 * (dense_dim or 0)
    for (_, file_hash, chunks, vectors), version in zip(items, versions, strict=True):
        for i, chunk in enumerate(chunks):
            vector = vectors[i] if vectors is not None and dense_dim else None
            row = chunk_row(
                chunk,
                version,
                file_hash,
                vector,
                locations=locations,
                dense_dim=dense_dim,
                search_text=search_text,
            )
            row_bytes = 256 + vector_bytes + len(row["text"]) * 3 + len(row["source"]) * 3
            if requests[-1] and size + row_bytes > request_bytes:
                requests.append([])
                size = 0
            requests[-1].append(row)
            size += row_bytes
    return [rows for rows in requests if rows]


__all__ = ["FileWrite", "Layout", "check_write", "chunk_row", "insert_requests"]
