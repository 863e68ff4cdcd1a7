"""The start-up warm-up searches a few knowledge bases once, read-only.

Why: the engine loads jieba's dictionary on a Chinese knowledge base's first search
(~0.5 s); the warm-up does that search before the first question. It must change
nothing it searches and must never create a store where there is none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from chat_tui.config import Settings
from chat_tui.retrieval.milvus_store import KnowledgeStore
from chat_tui.retrieval.types import Chunk
from chat_tui.services.bootstrap import warm_up_analyzers


def test_warm_up_searches_without_changing_the_knowledge_base(
    kb_settings: Settings, make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    store.ensure()
    chunks = [
        Chunk(id=f"c{i}", source="/文件.md", text=f"复制文件 file {i}", index=i) for i in range(3)
    ]
    store.replace_file("/文件.md", "hash-1", chunks, None)
    before = (store.file_hashes(), store.sources())

    warm_up_analyzers(kb_settings)

    assert (store.file_hashes(), store.sources()) == before
    assert store.search_bm25("复制文件", 3) != []  # still searchable


def test_warm_up_creates_no_store_where_there_is_none(
    tmp_path: Path, kb_settings: Settings
) -> None:
    settings = replace(kb_settings, data_dir=tmp_path / "empty")

    warm_up_analyzers(settings)

    assert not (tmp_path / "empty").exists()
