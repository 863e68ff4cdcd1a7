"""Ranking files, not only passages: a title that answers lifts its file; one passage per file.

The knowledge bases are real Milvus Lite collections (the session's server) holding a few
small man-page-like and chapter-like documents; each test first checks what the store's
own passage ranking says, so that it shows what the document ranking changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from chat_tui.config import Settings
from chat_tui.retrieval.document_rank import document_ranks, rank_documents
from chat_tui.retrieval.jina import JinaEmbedder
from chat_tui.retrieval.milvus_store import KnowledgeStore
from chat_tui.retrieval.retriever import Retriever
from chat_tui.retrieval.synonyms import expand_query
from chat_tui.retrieval.types import Chunk, Embedder, Passage


def _chunks(source: str, texts: Sequence[str]) -> list[Chunk]:
    return [
        Chunk(id=f"{source}#{i}", source=source, text=text, index=i, line_start=i * 10 + 1)
        for i, text in enumerate(texts)
    ]


async def _fill(
    store: KnowledgeStore, files: dict[str, list[str]], embedder: Embedder | None = None
) -> None:
    store.ensure()
    for number, (source, texts) in enumerate(files.items()):
        chunks = _chunks(source, texts)
        vectors = await embedder.embed_documents(chunks) if embedder else None
        store.replace_file(source, f"h{number}", chunks, vectors)


#: A man page whose NAME line is the answer, and a chapter whose one long passage
#: repeats the question's words more often (but whose title is about something else).
TITLED = {
    "/man/man1/mv.1": [
        "mv - 移动（重命名）文件",
        "选项：-f 覆盖前不询问；-i 覆盖前询问；-n 不覆盖已存在的文件。",
        "-u 只在源文件比目标文件新，或目标文件不存在时才移动。",
    ],
    "/doc/perl-scripts.html": [
        "Perl 脚本集：日常管理的小工具",
        "批量重命名文件：这个脚本按正则表达式给文件重命名，一次可以重命名很多文件，"
        "重命名以前先列出每个文件的新名字，确认以后再重命名文件。",
        "日志轮转：按日期压缩旧日志，保留最近七天。",
    ],
}


async def test_a_file_whose_lead_chunk_answers_outranks_a_passage_that_repeats_the_words(
    kb_settings: Settings, make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    await _fill(store, TITLED)
    question = "怎样重命名文件"
    raw = store.search_bm25(question, 5)
    # The passage ranking alone puts the chapter's passage first ...
    assert raw[0].chunk.source == "/doc/perl-scripts.html" and raw[0].chunk.index == 1
    assert ("/man/man1/mv.1", 0) in [(p.chunk.source, p.chunk.index) for p in raw]
    retriever = Retriever(kb_settings, None, store_factory=lambda _: store)
    found = await retriever.retrieve(question, kb_name, 2)
    # ... the man page's NAME line stands in for the whole page, and the page wins.
    assert [(p.chunk.source, p.chunk.index) for p in found] == [
        ("/man/man1/mv.1", 0),
        ("/doc/perl-scripts.html", 1),
    ]
    assert found[0].score > found[1].score


#: One long chapter whose every passage is about snapshots, and a short note that
#: mentions them once.
CROWDED = {
    "/guide/backup.md": [
        "Backups with LVM snapshots: a snapshot freezes a volume while it is copied.",
        "Create the snapshot with lvcreate --snapshot; the snapshot needs free extents.",
        "Mount the snapshot read-only and copy it; remove the snapshot afterwards.",
        "A full snapshot becomes invalid: size the snapshot for the writes during backup.",
    ],
    "/guide/btrfs.md": [
        "Btrfs subvolumes can be copied cheaply, and a snapshot of one is instant.",
    ],
}


@pytest.mark.parametrize("hybrid", [False, True], ids=["bm25", "hybrid"])
async def test_each_file_gets_one_passage_before_any_file_gets_a_second(
    hybrid: bool,
    kb_settings: Settings,
    jina_settings: Settings,
    make_store: Callable[..., KnowledgeStore],
    kb_name: str,
) -> None:
    settings = jina_settings if hybrid else kb_settings
    embedder = JinaEmbedder(settings.embedding, backoff_base=0.001) if hybrid else None
    store = make_store(kb_name, settings, embedder.dimensions if embedder else None)
    await _fill(store, CROWDED, embedder)
    question = "how do I take a snapshot backup"
    raw = store.search_bm25(question, 4)
    assert [p.chunk.source for p in raw] == ["/guide/backup.md"] * 4
    retriever = Retriever(settings, embedder, store_factory=lambda _: store)
    try:
        found = await retriever.retrieve(question, kb_name, 5)
    finally:
        await retriever.aclose()
    assert retriever.last_notice is None
    sources = [p.chunk.source for p in found]
    assert sources[:2] == ["/guide/backup.md", "/guide/btrfs.md"]
    # The chapter's other passages still fill the list, after the note, best first.
    assert sorted(p.chunk.index for p in found if p.chunk.source == "/guide/backup.md") == [
        0,
        1,
        2,
        3,
    ]
    scores = [p.score for p in found]
    assert scores == sorted(scores, reverse=True)


def _passage(source: str, index: int) -> Passage:
    return Passage(Chunk(id=f"{source}#{index}", source=source, text="x", index=index), 1.0)


def test_document_ranks_come_from_lead_chunks_only_and_repeats_count_once() -> None:
    pool = [
        _passage("/a", 3),  # /a's lead chunk is not in the pool: no document rank
        _passage("/b", 0),
        _passage("/c", 2),
        _passage("/c", 0),
        _passage("/b", 0),  # the same chunk again (a fused list): its first rank counts
    ]
    assert document_ranks(pool) == {"/b": 1, "/c": 2}
    ranked = rank_documents(pool, 10, k=10, document_weight=0.3)
    assert [p.chunk.id for p in ranked] == ["/b#0", "/c#2", "/a#3", "/c#0"]
    # /b#0: passage rank 2 and document rank 1; /c#2: 3 and 2; /a#3: 1 and none.
    assert ranked[0].score == pytest.approx(1 / 12 + 0.3 / 11)
    assert ranked[1].score == pytest.approx(1 / 13 + 0.3 / 12)
    assert ranked[2].score == pytest.approx(1 / 11)
    # /c#0 (1/14 + 0.3/12) beats /a#3 but is /c's second passage: after it, capped.
    assert 1 / 14 + 0.3 / 12 > 1 / 11
    assert ranked[3].score == ranked[2].score
    assert rank_documents(pool, 2) == ranked[:2]
    assert rank_documents([], 5) == []


#: Man pages in the words the pages use (重命名, 卸载), and one about disk partitions.
SYNONYMS = {
    "/man/man1/mv.1": ["mv - 移动（重命名）文件", "-f 覆盖前不询问。"],
    "/man/man8/umount.8": ["umount - 卸载文件系统", "-l 立即分离文件系统。"],
    "/man/man8/fdisk.8": ["fdisk - 磁盘分区表操作工具", "-l 列出分区表。"],
}


async def test_chinese_questions_find_pages_that_use_a_synonym(
    kb_settings: Settings, make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    await _fill(store, SYNONYMS)
    retriever = Retriever(kb_settings, None, store_factory=lambda _: store)
    asked = {"怎样改名？": "/man/man1/mv.1", "如何卸下分区？": "/man/man8/umount.8"}
    for question, page in asked.items():
        # The question's own words miss the page ...
        assert page not in [p.chunk.source for p in store.search_bm25(question, 5)]
        found = await retriever.retrieve(question, kb_name, 2)
        # ... its synonyms find it.
        assert page in [p.chunk.source for p in found]


def test_synonyms_are_appended_once_and_other_questions_are_left_alone() -> None:
    assert expand_query("怎样给文件改名") == "怎样给文件改名 重命名 更名"
    assert expand_query("删除还是删掉") == "删除还是删掉 移除 去掉 去除 清除"
    assert expand_query("how do I rename a file") == "how do I rename a file"
