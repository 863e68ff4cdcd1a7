"""Anchor and root survive a round trip through Milvus, so search hits still locate."""

from __future__ import annotations

from collections.abc import Callable

from chat_tui.retrieval.milvus_store import KnowledgeStore
from chat_tui.retrieval.types import Chunk


def test_anchor_and_root_come_back_in_search_hits(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    store.ensure()
    source = "/docs/py/library/os.html"
    long_anchor = "a" * 3000  # longer than the field: cut, not refused
    chunks = [
        Chunk(
            id=f"c{n}",
            source=source,
            text=text,
            heading="os > Files and Directories",
            index=n,
            anchor=anchor,
            root="/docs/py",
        )
        for n, (text, anchor) in enumerate(
            [
                ("os.stat returns the status of a file descriptor or path", "os.stat"),
                ("os.walk generates the file names in a directory tree walk", "os.walk"),
                ("os.scandir yields directory entries quickly", long_anchor),
            ]
        )
    ]
    store.replace_file(source, "h1", chunks, None)
    hits = store.search_bm25("status of a file path stat", 3)
    assert hits[0].chunk.anchor == "os.stat" and hits[0].chunk.root == "/docs/py"
    labels = {hit.citation().label() for hit in store.search_bm25("os directory file", 3)}
    assert "library/os.html#os.stat > os > Files and Directories" in labels
    assert "library/os.html#os.walk > os > Files and Directories" in labels
    scandir = store.search_bm25("scandir entries", 1)[0].chunk
    assert scandir.anchor and long_anchor.startswith(scandir.anchor) and len(scandir.anchor) < 3000
