"""KnowledgeStore on a real Milvus Lite server (one per test session)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from chat_tui.config import MilvusSettings, Settings
from chat_tui.errors import RetrievalError
from chat_tui.retrieval.milvus_store import KnowledgeStore, decode_name, encode_name, truncate_utf8
from chat_tui.retrieval.types import Chunk
from tests.support.fake_jina import embed_text

DIM = 64

ENGLISH = [
    "Install the package with pip install chat-tui and run chat-tui in a terminal.",
    "The weather in Lisbon is mild in winter, with rain in November.",
    "Milvus stores vectors and supports BM25 full text search through functions.",
]
CHINESE = [
    "使用 pip 安装向量数据库，然后启动服务器。",
    "今天的天气很好，适合去公园散步。",
    "红烧肉的做法：先把五花肉切块，再加入酱油和冰糖。",
]


def make_chunks(source: str, texts: list[str], **extra: Any) -> list[Chunk]:
    return [
        Chunk(
            id=f"{source}#{i}",
            source=source,
            text=t,
            index=i,
            line_start=i * 3 + 1,
            line_end=i * 3 + 2,
            **extra,
        )
        for i, t in enumerate(texts)
    ]


def vectors(chunks: list[Chunk]) -> list[list[float]]:
    return [embed_text(c.text, DIM) for c in chunks]


def test_names_are_encoded_reversibly() -> None:
    for name in ("default", "my_notes", "笔记 2024", "a-b.c"):
        encoded = encode_name(name)
        assert encoded.replace("_", "").isalnum() and decode_name(encoded) == name
    assert truncate_utf8("ab中文", 4) == "ab"
    assert truncate_utf8("ab中文", 5) == "ab中"


def test_missing_kb_is_empty_without_error(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    assert not store.exists()
    assert store.search_bm25("anything", 3) == []
    assert store.file_hashes() == {} and store.sources() == []
    assert store.remove_file("/nope") == 0


def test_insert_replace_remove(
    make_store: Callable[..., KnowledgeStore], kb_name: str, kb_settings: Settings
) -> None:
    store = make_store(kb_name)
    store.ensure()
    assert store.exists() and store.dense_dim is None
    store.replace_file("/docs/en.md", "h1", make_chunks("/docs/en.md", ENGLISH), None)
    store.replace_file("/docs/zh.md", "h2", make_chunks("/docs/zh.md", CHINESE, page=2), None)
    assert store.file_hashes() == {"/docs/en.md": "h1", "/docs/zh.md": "h2"}
    assert store.sources() == [("/docs/en.md", "h1", 3), ("/docs/zh.md", "h2", 3)]

    store.replace_file(
        "/docs/en.md", "h1b", make_chunks("/docs/en.md", ["Only the new line about kayaks."]), None
    )
    assert store.sources()[0] == ("/docs/en.md", "h1b", 1)
    assert [p.chunk.text for p in store.search_bm25("kayaks", 5)] == [
        "Only the new line about kayaks."
    ]
    assert store.search_bm25("Lisbon weather", 5) == []  # the old version is gone

    assert store.remove_file("/docs/zh.md") == 3
    assert store.sources() == [("/docs/en.md", "h1b", 1)]
    stats = store.stats()
    assert stats["chunks"] == 1 and stats["files"] == 1 and stats["analyzer"] == "jieba"
    assert str(stats["uri"]).startswith("unix:")
    assert kb_name in KnowledgeStore.list_knowledge_bases(kb_settings)
    store.drop()
    assert not store.exists()
    assert kb_name not in KnowledgeStore.list_knowledge_bases(kb_settings)


def test_bm25_finds_english_and_chinese(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    store.ensure()
    store.replace_file("/en.md", "a", make_chunks("/en.md", ENGLISH), None)
    store.replace_file("/zh.md", "b", make_chunks("/zh.md", CHINESE, page=4), None)
    english = store.search_bm25("How do I install it with pip?", 3)
    assert english[0].chunk.text == ENGLISH[0]
    assert english[0].score > 0 and english[0].knowledge_base == kb_name
    assert english[0].chunk.line_start == 1 and english[0].chunk.page is None
    chinese = store.search_bm25("红烧肉怎么做？", 3)
    assert chinese[0].chunk.text == CHINESE[2]
    assert chinese[0].chunk.page == 4 and chinese[0].citation().label() == "/zh.md (page 4)"
    assert store.search_bm25("天气", 3)[0].chunk.text == CHINESE[1]


def test_standard_analyzer_is_chosen_per_knowledge_base(
    make_store: Callable[..., KnowledgeStore], kb_settings: Settings, kb_name: str
) -> None:
    standard = replace(kb_settings, retrieval=replace(kb_settings.retrieval, analyzer="standard"))
    store = make_store(kb_name, standard)
    store.ensure()
    store.replace_file("/en.md", "a", make_chunks("/en.md", ENGLISH), None)
    assert store.stats()["analyzer"] == "standard"
    assert store.search_bm25("Lisbon weather in winter", 3)[0].chunk.text == ENGLISH[1]
    # The analyzer belongs to the knowledge base: another default-configured store on it
    # keeps what the collection was created with.
    again = make_store(kb_name)
    again.ensure()
    assert again.stats()["analyzer"] == "standard"
    jieba = make_store(kb_name + "_j")
    jieba.ensure()
    assert jieba.stats()["analyzer"] == "jieba"


MIXED = [
    "Running several servers behind one proxy.",
    "安装软件包的方法：使用 apt-get install 命令。",
    "Why? Because, well: it is.",
]


def test_the_default_analyzer_splits_chinese_and_english_in_one_base(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    store.replace_file("/mixed.md", "a", make_chunks("/mixed.md", MIXED), None)
    assert [p.chunk.text for p in store.search_bm25("servers proxy", 3)] == [MIXED[0]]
    assert [p.chunk.text for p in store.search_bm25("如何安装软件包？", 3)] == [MIXED[1]]
    assert [p.chunk.text for p in store.search_bm25("apt-get", 3)] == [MIXED[1]]
    # Spaces and punctuation are not words: a question mark matches nothing.
    assert store.search_bm25("? , :", 3) == []


def test_the_default_analyzer_ignores_the_words_of_asking(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    menu = "How do I run it? How do I stop it? What is it? 如何运行？怎么停止一个服务？"
    answer = "Use shutil.copytree to copy a directory tree. 复制目录用 cp -r。"
    store = make_store(kb_name)
    store.replace_file("/faq.md", "a", make_chunks("/faq.md", [menu, answer]), None)
    assert store.search_bm25("How do I ... what is it?", 3) == []
    assert store.search_bm25("如何 怎么 一个 的", 3) == []
    assert [p.chunk.text for p in store.search_bm25("How do I copy a tree?", 3)] == [answer]
    assert [p.chunk.text for p in store.search_bm25("怎么复制一个目录？", 3)] == [answer]


def test_the_default_analyzer_ignores_the_filler_of_chinese_questions(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    # "请问 ... 已经 ... 以后 ... 应该": words of any question, and of FAQ menus full of
    # them, not of what is asked about (bench_eval: MRR 0.646 -> 0.661 on the seen set).
    menu = "请问现在已经安装以后应该怎么办？为什么还需要再想一下？"
    answer = "卸载软件包用 apt remove 命令。"
    store = make_store(kb_name)
    store.replace_file("/faq.md", "a", make_chunks("/faq.md", [menu, answer]), None)
    assert store.search_bm25("请问 现在 已经 以后 应该 为什么 需要", 3) == []
    found = store.search_bm25("请问已经安装以后应该怎么卸载软件包？", 3)
    assert found[0].chunk.text == answer


def test_the_english_analyzer_stems_and_drops_stop_words(
    make_store: Callable[..., KnowledgeStore], kb_settings: Settings, kb_name: str
) -> None:
    english = replace(kb_settings, retrieval=replace(kb_settings.retrieval, analyzer="english"))
    store = make_store(kb_name, english)
    store.replace_file("/mixed.md", "a", make_chunks("/mixed.md", MIXED), None)
    assert store.stats()["analyzer"] == "english"
    assert [p.chunk.text for p in store.search_bm25("how to run the server?", 3)] == [MIXED[0]]
    assert store.search_bm25("the of and", 3) == []


def test_hybrid_and_dense(make_store: Callable[..., KnowledgeStore], kb_name: str) -> None:
    store = make_store(kb_name, dense_dim=DIM)
    store.ensure()
    assert store.dense_dim == DIM
    chunks = make_chunks("/en.md", ENGLISH) + make_chunks("/zh.md", CHINESE)
    store.replace_file("/en.md", "a", chunks[:3], vectors(chunks[:3]))
    store.replace_file("/zh.md", "b", chunks[3:], vectors(chunks[3:]))
    question = "does milvus support full text search"
    assert store.search_dense(embed_text(question, DIM), 2)[0].chunk.text == ENGLISH[2]
    hybrid = store.search_hybrid(question, embed_text(question, DIM), 3, candidates=10)
    assert hybrid[0].chunk.text == ENGLISH[2] and len(hybrid) == 3
    assert hybrid[0].score >= hybrid[1].score
    with pytest.raises(RetrievalError, match="dense vectors"):
        store.replace_file("/x.md", "c", make_chunks("/x.md", ["x"]), None)
    with pytest.raises(RetrievalError, match="--rebuild"):
        store.replace_file("/x.md", "c", make_chunks("/x.md", ["x"]), [[0.1] * 8])


def test_other_dimension_needs_rebuild(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    make_store(kb_name, dense_dim=DIM).ensure()
    with pytest.raises(RetrievalError, match="re-ingest with --rebuild"):
        make_store(kb_name, dense_dim=DIM * 2).ensure()


def test_bm25_only_kb_ignores_vectors_and_hybrid_falls_back(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    store.ensure()
    chunks = make_chunks("/en.md", ENGLISH)
    store.replace_file("/en.md", "a", chunks, vectors(chunks))
    assert store.search_dense(embed_text("weather", DIM), 3) == []
    assert (
        store.search_hybrid("weather Lisbon", embed_text("weather", DIM), 3)[0].chunk.text
        == ENGLISH[1]
    )


def test_long_text_is_truncated_at_a_character_boundary(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    store.ensure()
    text = "中" * 30_000  # 90,000 UTF-8 bytes
    store.replace_file(
        "/big.md", "h", [Chunk(id="1", source="/big.md", text=text, heading="H" * 5000)], None
    )
    found = store.search_bm25("中", 1)[0].chunk
    assert len(found.text.encode("utf-8")) <= 65_535 and set(found.text) == {"中"}
    assert len(found.heading) <= 2048


def test_stats_never_show_the_token(kb_settings: Settings) -> None:
    settings = replace(
        kb_settings,
        milvus=MilvusSettings(uri="http://user:pw-SECRET@127.0.0.1:9", token="tok-SECRET"),
    )
    store = KnowledgeStore(settings, "x")
    with pytest.raises(RetrievalError) as caught:
        store.exists()
    assert "SECRET" not in str(caught.value) and "\n" not in str(caught.value)


def test_registry_rows_of_the_old_key_format_are_rekeyed_on_open(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    from chat_tui.retrieval.milvus_store import file_key

    # No single quote in this name: Milvus Lite 2.5 pastes the primary keys a delete
    # matches into SQL unescaped, so it cannot delete a row whose key holds one. Keys are
    # hashes since, and rows of the old format live in Milvus Lite 3 databases, which 2.5
    # does not open; a Milvus server deletes them fine.
    source = '/docs/x"] or key not in ["\\.md'
    store = make_store(kb_name)
    chunk = Chunk(id="c0", source=source, text="legacy quokka text", index=0)
    store.replace_file(source, "h1", [chunk], None)
    # Rewrite the registry as the old code stored it: key "file:<source>".
    client = store.connection.client()
    row = client.get(store.registry, ids=[file_key(source)], output_fields=["*"])[0]
    client.insert(store.registry, [{**row, "key": f"file:{source}"}])
    client.delete(store.registry, ids=[file_key(source)])
    store.close()

    reopened = make_store(kb_name)
    assert reopened.sources() == [(source, "h1", 1)]
    assert [p.chunk.source for p in reopened.search_bm25("quokka", 5)] == [source]
    keys = reopened.connection.client().query(
        reopened.registry, filter="", output_fields=["key"], limit=100
    )
    assert [r["key"] for r in keys] == [file_key(source)]
    assert reopened.remove_file(source) == 1 and reopened.sources() == []


def test_an_empty_knowledge_base_finds_nothing_without_an_error(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    store.ensure()  # exists, no rows yet (an ingest has just created it)
    assert store.search_bm25("anything at all", 5) == []
    store.replace_file("/a.md", "h", make_chunks("/a.md", ["the first quokka"]), None)
    assert [p.chunk.text for p in store.search_bm25("quokka", 5)] == ["the first quokka"]


def test_search_text_puts_the_file_name_and_heading_before_the_text() -> None:
    from chat_tui.retrieval.milvus_schema import search_text

    assert (
        search_text("/doc/html/library/asyncio-task.html", "Coroutines > gather", "Body.")
        == "asyncio task\nCoroutines > gather\nBody."
    )
    assert search_text("/man/man1/ls.1.gz", "", "列出目录") == "ls\n列出目录"
    assert search_text("", "", "only text") == "only text"
    assert len(search_text("/a.md", "h", "中" * 30_000).encode()) <= 65_535


def test_search_text_puts_the_file_summary_after_the_name() -> None:
    from chat_tui.retrieval.milvus_schema import search_text

    assert (
        search_text("/man1/kill.1.gz", "kill(1) > 描述", "默认的信号是 TERM。", "kill - 终止进程")
        == "kill\nkill - 终止进程\nkill(1) > 描述\n默认的信号是 TERM。"
    )
    assert search_text("/man1/ls.1.gz", "", "列出目录", "  ") == "ls\n列出目录"


def test_bm25_finds_a_passage_by_its_file_summary(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    # An option of a man page rarely says what the page is for; its NAME line does.
    store = make_store(kb_name)
    option = "-s, --signal 指定要发送的信号。"
    chunks = [
        replace(c, summary="kill - 终止进程")
        for c in make_chunks("/man1/kill.1.gz", [option], heading="kill(1) > 选项")
    ]
    store.replace_file("/man1/kill.1.gz", "a", chunks, None)
    store.replace_file(
        "/man1/nice.1.gz", "b", make_chunks("/man1/nice.1.gz", ["以指定的优先级运行程序。"]), None
    )
    found = store.search_bm25("终止进程", 5)
    assert [p.chunk.source for p in found] == ["/man1/kill.1.gz"]
    assert found[0].chunk.text == option  # the summary is only searched, never shown


def test_bm25_finds_a_passage_by_its_file_name_and_heading(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    body = "Returns the final component's suffix, if any."
    store.replace_file(
        "/lib/pathlib.html", "a", make_chunks("/lib/pathlib.html", [body], heading="PurePath"), None
    )
    store.replace_file(
        "/lib/other.html", "b", make_chunks("/lib/other.html", ["Another suffix here."]), None
    )
    found = store.search_bm25("pathlib suffix", 5)
    assert found[0].chunk.source == "/lib/pathlib.html"
    # The passage is the chunk's own text: the name and heading are only searched.
    assert found[0].chunk.text == body and found[0].chunk.heading == "PurePath"
    assert [p.chunk.source for p in store.search_bm25("PurePath", 5)] == ["/lib/pathlib.html"]


def test_a_knowledge_base_from_before_search_text_is_read_and_written(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    from pymilvus import DataType, Function, FunctionType

    from chat_tui.retrieval.milvus_schema import ANALYZERS, create_registry_collection

    store = make_store(kb_name)
    client = store.connection.client()
    # The chunks collection as it was made before ``search_text``: BM25 reads ``text``.
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
    for name, length in (("source", 4096), ("file_hash", 128), ("version", 64)):
        schema.add_field(name, DataType.VARCHAR, max_length=length)
    schema.add_field("heading", DataType.VARCHAR, max_length=2048)
    schema.add_field(
        "text",
        DataType.VARCHAR,
        max_length=65_535,
        enable_analyzer=True,
        analyzer_params=ANALYZERS["jieba"],
    )
    for name in ("line_start", "line_end", "page", "idx"):
        schema.add_field(name, DataType.INT64)
    for name, length in (("anchor", 1024), ("root", 4096), ("key", 64)):
        schema.add_field(name, DataType.VARCHAR, max_length=length)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="text_bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    index = client.prepare_index_params()
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    index.add_index(field_name="source", index_type="INVERTED")
    client.create_collection(store.collection, schema=schema, index_params=index)
    create_registry_collection(client, store.registry)
    store.close()

    old = make_store(kb_name)
    old.replace_file("/en.md", "a", make_chunks("/en.md", ENGLISH), None)
    assert old.stats()["analyzer"] == "jieba"
    assert old.search_bm25("install with pip", 3)[0].chunk.text == ENGLISH[0]
