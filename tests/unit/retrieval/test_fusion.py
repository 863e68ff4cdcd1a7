"""Weighted fusion: a weak dense ranking reorders and fills, never evicts strong BM25 hits."""

from __future__ import annotations

from chat_tui.retrieval.fusion import fuse, with_slack
from chat_tui.retrieval.types import Chunk, Passage


def _ranking(names: list[str], source: str = "/kb.md") -> list[Passage]:
    return [
        Passage(Chunk(id=name, source=source, text=name, index=i, line_start=i + 1), 1.0 / (i + 1))
        for i, name in enumerate(names)
    ]


def test_dense_only_hits_cannot_push_bm25_top_five_out() -> None:
    lexical = _ranking([f"b{i}" for i in range(5)])
    dense = _ranking([f"d{i}" for i in range(20)])  # a weak model: none of BM25's hits
    fused = fuse(lexical, dense, 5)
    assert [p.chunk.id for p in fused] == ["b0", "b1", "b2", "b3", "b4"]
    # Plain RRF gives both lists the same say: the dense top hits take BM25's places.
    plain = fuse(lexical, dense, 5, method="rrf")
    assert {"d0", "d1"} <= {p.chunk.id for p in plain}


def test_agreement_lifts_a_passage_and_dense_fills_the_tail() -> None:
    lexical = _ranking(["b0", "b1", "b2"])
    dense = _ranking(["b2", "d0"])
    # b2: 1/13 + 0.1/11 = 0.0860 > b1: 1/12 = 0.0833 (both lists agree on b2).
    assert [p.chunk.id for p in fuse(lexical, dense, 5)] == ["b0", "b2", "b1", "d0"]
    # With equal weights agreement wins outright: 1/13 + 1/11 > 1/11.
    assert [p.chunk.id for p in fuse(lexical, dense, 2, dense_weight=1.0)] == ["b2", "b0"]


def test_equal_scores_rank_in_document_order_and_scores_are_fused() -> None:
    first = Passage(Chunk(id="x", source="/b.md", text="x", line_start=9), 1.0)
    second = Passage(Chunk(id="y", source="/a.md", text="y", line_start=30), 1.0)
    fused = fuse([first], [second], 2, dense_weight=1.0)
    assert [p.chunk.source for p in fused] == ["/a.md", "/b.md"]
    assert fused[0].score == fused[1].score == 1 / 11
    assert with_slack(5) == 10 and with_slack(40) == 50
