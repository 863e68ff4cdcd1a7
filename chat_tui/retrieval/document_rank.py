"""Ranking the files a question is about, and not only its passages (issue 9).

Why: recall of the right *file* is what a user feels ("it found the page"), and a
passage ranking alone gets it wrong in two ways. A file whose every passage matches a
little (a man page whose NAME line is the question) loses to one long chapter whose
many passages each match a word; and one chapter's five passages can fill the whole
top five, so the second-best file is never seen. So the retriever asks the store for
a pool of passages (``POOL``) and ranks again, on our side, query-time only (no
re-ingest):

* the **document list**: each file's lead chunk (chunk index 0: its title and summary,
  a man page's NAME section, a chapter's heading and opening) stands in for the whole
  file, ranked where it falls in the pool;
* the **fusion**: weighted reciprocal-rank fusion of the passage ranking and the
  document list, ``1/(k + r_passage) + w/(k + r_document)`` (a file whose lead chunk is
  not in the pool adds 0), with ``k`` = 10 and ``w`` = 0.3 by default;
* **one passage per file first**: each file's best passage, best first, then the other
  passages of those files, their scores capped at the last file's best, so the list
  stays best-first. This changes what goes into the model's prompt: more sources, fewer
  passages from the single best one.

Equal scores rank in document order (``fusion.document_order``), so a result list is
the same on every run.

Measured with ``bench/bench_eval.py --modes bm25,hybrid`` (recall@5 / MRR, BM25; hybrid
the same or higher), without synonyms: seen ZH set 0.808 / 0.661 -> 0.846 / 0.719, EN
0.885 / 0.775 -> 0.885 / 0.772. On the seen set, w = 0 (one passage per file only)
gives ZH 0.833 / 0.675, w = 0.1 0.833 / 0.690, 0.5 0.846 / 0.693, 1.0 0.821 / 0.655;
k = 30 is lower; a pool of 200 gives EN 0.902 / 0.800 but the held-out ZH MRR drops
(0.796 -> 0.776) and the BM25 p50 goes 9 -> 13 ms, so 100. Ranking files by the sum of
their passages' reciprocal ranks instead of their lead chunk: ZH 0.833 / 0.675.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from chat_tui.retrieval.fusion import document_order
from chat_tui.retrieval.types import Passage

#: Passages asked of the store before ranking files: enough that most files a question
#: is about have their lead chunk in the pool.
POOL = 100
#: The rank constant of the fusion (as ``[retrieval] rrf_k``).
DOCUMENT_K = 10
#: The document list's say beside the passage ranking's (1).
DOCUMENT_WEIGHT = 0.3
#: The chunk index of a file's lead chunk.
LEAD_INDEX = 0


def document_ranks(pool: Sequence[Passage]) -> dict[str, int]:
    """``source -> rank`` (1-based) of the files whose lead chunk is in ``pool`` (best first)."""
    ranks: dict[str, int] = {}
    for passage in pool:
        source = passage.chunk.source
        if passage.chunk.index == LEAD_INDEX and source not in ranks:
            ranks[source] = len(ranks) + 1
    return ranks


def rank_documents(
    pool: Sequence[Passage],
    limit: int,
    *,
    k: int = DOCUMENT_K,
    document_weight: float = DOCUMENT_WEIGHT,
) -> list[Passage]:
    """The best ``limit`` passages of ``pool`` (best first), one per file first.

    Args:
        pool: the store's passage ranking, best first (BM25 or fused hybrid).
        limit: how many passages to return.
        k: the rank constant of the fusion.
        document_weight: the weight of the document list (the passage ranking's is 1).

    Returns:
        Passages scored by the fusion: every file's best passage (best first), then
        the files' other passages, their scores capped at the last best one's.
    """
    files = document_ranks(pool)
    scored: dict[str, tuple[float, Passage]] = {}
    for rank, passage in enumerate(pool, start=1):
        key = passage.chunk.id
        if key in scored:
            continue  # the same chunk twice (a fused list): its best rank counts
        score = 1.0 / (k + rank)
        file_rank = files.get(passage.chunk.source)
        if file_rank is not None:
            score += document_weight / (k + file_rank)
        scored[key] = (score, passage)
    ordered = sorted(scored.values(), key=lambda item: (-item[0], document_order(item[1])))
    firsts: list[Passage] = []
    others: list[Passage] = []
    seen: set[str] = set()
    for score, passage in ordered:
        source = passage.chunk.source
        (others if source in seen else firsts).append(replace(passage, score=score))
        seen.add(source)
    if firsts and others:
        cap = firsts[-1].score
        others = [replace(p, score=min(p.score, cap)) for p in others]
    return (firsts + others)[:limit]


__all__ = ["DOCUMENT_K", "DOCUMENT_WEIGHT", "POOL", "document_ranks", "rank_documents"]
