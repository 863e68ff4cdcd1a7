"""The search half of a knowledge store: BM25, dense and hybrid (RRF) searches.

Hits are turned into passages only when their ``(source, version)`` is the one the
registry says is committed: rows of a half-written or superseded version of a file
are never returned (see :mod:`chat_tui.retrieval.milvus_store` for the write side).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from chat_tui.retrieval.fusion import (
    DEFAULT_DENSE_WEIGHT,
    DEFAULT_RRF_K,
    document_order,
    fuse,
    with_slack,
)
from chat_tui.retrieval.milvus_connection import MilvusConnection
from chat_tui.retrieval.milvus_schema import OUTPUT_FIELDS, or_none
from chat_tui.retrieval.types import Chunk, Passage


class KnowledgeSearch(MilvusConnection):
    """Searches over one knowledge base's chunks collection."""

    collection: str
    _dense_dim: int | None = None
    #: The location fields (``LOCATION_FIELDS``) this KB's collection has.
    _locations: tuple[str, ...] = ()

    def _committed(self, sources: Sequence[str]) -> dict[str, str]:
        """``source -> committed version`` (the store's registry)."""
        raise NotImplementedError

    def copy_sources(self, keys: Sequence[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
        """``key -> other sources`` of passages ``(key, source)``; none without copies."""
        return {}

    def _passages(self, hits: Sequence[Any], limit: int, *, bm25: bool = False) -> list[Passage]:
        entities = [(hit, hit.get("entity", {})) for hit in hits]
        committed = self._committed(sorted({str(e.get("source", "")) for _, e in entities}))
        passages: list[Passage] = []
        for hit, entity in entities:
            source = str(entity.get("source", ""))
            if committed.get(source) != entity.get("version"):
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
            passages.append(
                Passage(chunk, abs(score) if bm25 else score, self.knowledge_base, key=key)
            )
        # Milvus returns equal scores in no fixed order: rank them in document order
        # (the searches fetch ``with_slack(limit)`` so ties at the cut are seen).
        passages.sort(key=lambda p: (-p.score, document_order(p)))
        passages = passages[:limit]
        others = self.copy_sources([(p.key, p.chunk.source) for p in passages if p.key])
        return [replace(p, also_in=others.get(p.key, ())) for p in passages]

    def search_bm25(self, query: str, limit: int) -> list[Passage]:
        """Full-text (BM25) search; [] when the KB doesn't exist or the query is blank."""
        if not query.strip() or not self._open():
            return []

        def run(client: Any) -> Any:
            try:
                return client.search(
                    self.collection,
                    data=[query],
                    anns_field="sparse",
                    limit=with_slack(limit),
                    search_params={"metric_type": "BM25"},
                    output_fields=[*OUTPUT_FIELDS, *self._locations],
                )
            except Exception as error:
                # Milvus Lite 2.5 cannot score BM25 over a collection with no rows yet
                # (its average document length is 0/0): an empty KB finds nothing.
                if "NaN or Inf" in str(error):
                    return []
                raise

        result = self._call("searching", run)
        return self._passages(result[0] if result else [], limit, bm25=True)

    def search_dense(self, vector: Sequence[float], limit: int) -> list[Passage]:
        """Vector search; [] when the KB doesn't exist or has no dense vectors."""
        if not self._open() or not self._dense_dim:
            return []
        result = self._call(
            "searching",
            lambda c: c.search(
                self.collection,
                data=[list(vector)],
                anns_field="dense",
                limit=with_slack(limit),
                search_params={"metric_type": "COSINE"},
                output_fields=[*OUTPUT_FIELDS, *self._locations],
            ),
        )
        return self._passages(result[0] if result else [], limit)

    def search_hybrid(
        self,
        query: str,
        vector: Sequence[float],
        limit: int,
        candidates: int = 20,
        *,
        fusion: str = "weighted",
        rrf_k: int = DEFAULT_RRF_K,
        dense_weight: float = DEFAULT_DENSE_WEIGHT,
    ) -> list[Passage]:
        """BM25 + dense, fused on our side (``fusion.fuse``); BM25 only without vectors."""
        if not self._open():
            return []
        if not self._dense_dim:
            return self.search_bm25(query, limit)
        if not query.strip():
            return self.search_dense(vector, limit)
        pool = max(candidates, limit)
        lexical = self.search_bm25(query, pool)
        dense = self.search_dense(vector, pool)
        return fuse(lexical, dense, limit, method=fusion, k=rrf_k, dense_weight=dense_weight)


__all__ = ["KnowledgeSearch"]
