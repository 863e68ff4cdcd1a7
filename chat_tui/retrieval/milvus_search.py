"""The search half of a knowledge store: BM25 and dense requests, and hits made passages.

Plain functions over a :class:`~chat_tui.retrieval.milvus_connection.MilvusConnection`
and a collection name, so the store (:mod:`chat_tui.retrieval.milvus_store`) keeps the
state (is the KB open, its dense dimension, its fields) and these keep the Milvus Lite
quirks of searching. Hits are turned into passages only when their ``(source,
version)`` is the one the registry says is committed: rows of a half-written or
superseded version of a file are never returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from chat_tui.retrieval.fusion import document_order, with_slack
from chat_tui.retrieval.milvus_connection import MilvusConnection
from chat_tui.retrieval.milvus_schema import or_none
from chat_tui.retrieval.types import Chunk, Passage

#: ``sources -> {source: committed version}`` (the registry).
Committed = Callable[[Sequence[str]], dict[str, str]]
#: ``[(key, source)] -> {key: other sources}`` (the copies).
CopySources = Callable[[Sequence[tuple[str, str]]], dict[str, tuple[str, ...]]]


def bm25_hits(
    connection: MilvusConnection,
    collection: str,
    query: str,
    limit: int,
    output_fields: Sequence[str],
) -> list[Any]:
    """The raw hits of a full-text (BM25) search (``with_slack(limit)`` of them)."""

    def run(client: Any) -> Any:
        try:
            return client.search(
                collection,
                data=[query],
                anns_field="sparse",
                limit=with_slack(limit),
                search_params={"metric_type": "BM25"},
                output_fields=list(output_fields),
            )
        except Exception as error:
            # Milvus Lite 2.5 cannot score BM25 over a collection with no rows yet
            # (its average document length is 0/0): an empty KB finds nothing.
            if "NaN or Inf" in str(error):
                return []
            raise

    result = connection.call("searching", run)
    return list(result[0]) if result else []


def dense_hits(
    connection: MilvusConnection,
    collection: str,
    vector: Sequence[float],
    limit: int,
    output_fields: Sequence[str],
) -> list[Any]:
    """The raw hits of a vector (COSINE) search (``with_slack(limit)`` of them)."""
    result = connection.call(
        "searching",
        lambda c: c.search(
            collection,
            data=[list(vector)],
            anns_field="dense",
            limit=with_slack(limit),
            search_params={"metric_type": "COSINE"},
            output_fields=list(output_fields),
        ),
    )
    return list(result[0]) if result else []


def passages(
    hits: Sequence[Any],
    limit: int,
    *,
    knowledge_base: str,
    committed: Committed,
    copy_sources: CopySources,
    bm25: bool = False,
) -> list[Passage]:
    """The hits of committed versions as passages, best first, at most ``limit``."""
    entities = [(hit, hit.get("entity", {})) for hit in hits]
    current = committed(sorted({str(e.get("source", "")) for _, e in entities}))
    found: list[Passage] = []
    for hit, entity in entities:
        source = str(entity.get("source", ""))
        if current.get(source) != entity.get("version"):
            continue  # a half-written or superseded version: not part of the KB
        score = float(hit.get("distance", 0.0))
        chunk = Chunk(
            id=str(hit.get("id", "")).rsplit(":", 1)[0],
            source=source,
            text=str(entity.get("text", "")),
            heading=str(entity.get("heading", "")),
            line_start=or_none(entity.get("line_start")),
            line_end=or_none(entity.get("line_end")),
            page=or_none(entity.get("page")),
            index=int(entity.get("idx") or 0),
            file_hash=str(entity.get("file_hash", "")),
            anchor=str(entity.get("anchor", "") or ""),
            root=str(entity.get("root", "") or ""),
        )
        key = str(entity.get("key", "") or "")
        found.append(Passage(chunk, abs(score) if bm25 else score, knowledge_base, key=key))
    # Milvus returns equal scores in no fixed order: rank them in document order
    # (the searches fetch ``with_slack(limit)`` so ties at the cut are seen).
    found.sort(key=lambda p: (-p.score, document_order(p)))
    found = found[:limit]
    others = copy_sources([(p.key, p.chunk.source) for p in found if p.key])
    return [replace(p, also_in=others.get(p.key, ())) for p in found]


__all__ = ["Committed", "CopySources", "bm25_hits", "dense_hits", "passages"]
