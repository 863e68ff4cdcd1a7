"""Fusing the keyword (BM25) and the vector ranking of one question into one list.

Why on our side and not Milvus's ``RRFRanker``: plain reciprocal-rank fusion gives
both lists the same say, so a weak embedder (a small local model, a stand-in) pushes
good BM25 hits out of the top 5, and the ranking ends below BM25 alone. Weighted RRF
bounds what the dense list can do: with ``k`` and dense weight ``w``, a passage's
score is ``1/(k + r_bm25) + w/(k + r_dense)`` (a list it is missing from adds 0).
With the defaults (k=10, w=0.1) a passage found by the vectors only scores at most
0.1/11 ≈ 0.009, less than the BM25 5th place (1/15 ≈ 0.067): dense results can
reorder and fill the list, never evict a strong lexical hit from it. The figures
that chose these defaults come from ``bench/bench_eval.py --sweep``.

Equal scores rank in document order (source, then position), so a result list is
the same on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from chat_tui.config import RetrievalSettings
from chat_tui.retrieval.types import Passage

#: The defaults are the settings' (``[retrieval] rrf_k``, ``dense_weight``): one copy.
DEFAULT_RRF_K = RetrievalSettings.rrf_k
DEFAULT_DENSE_WEIGHT = RetrievalSettings.dense_weight
#: Milvus's own RRF constant, used by ``fusion = "rrf"`` (equal weights).
PLAIN_RRF_K = 60


def with_slack(limit: int) -> int:
    """How many hits to fetch from each list to fuse ``limit`` well (ties at the cut)."""
    return limit + min(limit, 10)


def document_order(passage: Passage) -> tuple[str, int, int, int]:
    """A passage's place in its knowledge base: source, page, line, chunk index."""
    chunk = passage.chunk
    return (chunk.source, chunk.page or 0, chunk.line_start or 0, chunk.index)


def fuse(
    lexical: Sequence[Passage],
    dense: Sequence[Passage],
    limit: int,
    *,
    method: str = "weighted",
    k: int = DEFAULT_RRF_K,
    dense_weight: float = DEFAULT_DENSE_WEIGHT,
) -> list[Passage]:
    """The best ``limit`` passages of two rankings (each best first), scored by fusion.

    Args:
        lexical: the BM25 ranking.
        dense: the vector ranking.
        limit: how many to return.
        method: "weighted" (``k``, ``dense_weight``) or "rrf" (k=60, equal weights).
        k: the rank constant of weighted fusion.
        dense_weight: the weight of the dense ranking in weighted fusion (BM25's is 1).
    """
    if method == "rrf":
        k, dense_weight = PLAIN_RRF_K, 1.0
    scores: dict[str, float] = {}
    found: dict[str, Passage] = {}
    for weight, ranking in ((1.0, lexical), (dense_weight, dense)):
        for rank, passage in enumerate(ranking, start=1):
            key = passage.chunk.id
            found.setdefault(key, passage)
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    ranked = sorted(found, key=lambda key: (-scores[key], document_order(found[key])))
    return [replace(found[key], score=scores[key]) for key in ranked[:limit]]


__all__ = ["DEFAULT_DENSE_WEIGHT", "DEFAULT_RRF_K", "fuse", "with_slack"]
