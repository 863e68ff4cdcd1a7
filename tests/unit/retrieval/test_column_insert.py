"""Column-wise inserts (``milvus_columns``): big writes take the ORM's column path, and
every row comes back as it went in, on that path and on ``client.insert``'s.

Each test writes through ``KnowledgeStore.replace_files`` into the session's real
Milvus Lite server and reads the rows back with a query, BM25 and (hybrid) dense
searches. Which path a write took is read from the store's ``inserter`` counts.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from chat_tui.retrieval.milvus_columns import COLUMN_MIN_ROWS
from chat_tui.retrieval.milvus_rows import chunk_row
from chat_tui.retrieval.milvus_schema import LOCATION_FIELDS, create_chunks_collection
from chat_tui.retrieval.milvus_store import FileWrite, KnowledgeStore
from chat_tui.retrieval.types import Chunk
from tests.support.fake_jina import embed_text

DIM = 16
#: Texts that must come back byte for byte: terminal escapes, quotes and backslashes,
#: NULs, a line of 40,000 characters, CJK (3 bytes each in UTF-8), emoji, bidi controls.
HOSTILE = [
    "ansi \x1b[31mred\x1b[0m osc \x1b]0;title\x07 csi \x9b2J",
    "back\\slash 'single' \"double\" `tick` ${HOME} %s {x} \\n ']) or 1=1 --",
    "nul\x00inside and\x00\x00twice",
    "huge " + "x" * 40_000 + " end",
    "使用 pip 安装向量数据库，然后启动服务器。日本語のテキスト、한국어 텍스트 " + "中文" * 8_000,
    "emoji 🙂👍🏽 e\u0301 zero\u200bwidth \u202eevil\u202c \ufeffbom",
    "lines\r\nwith\rcarriage\ttabs\n\n\vform\x0cfeed",
]


def word(n: int) -> str:
    """A word no other chunk has (letters only: every analyzer keeps it whole)."""
    letters = ""
    n += 26 * 26
    while n:
        n, digit = divmod(n, 26)
        letters = chr(ord("a") + digit) + letters
    return "kw" + letters


def hostile_chunk(source: str, i: int) -> Chunk:
    hostile = HOSTILE[i % len(HOSTILE)]
    # The huge lines in full in a few chunks only: more would split the write into
    # requests of under 16 MB (``INSERT_REQUEST_BYTES``), each under ``COLUMN_MIN_ROWS``.
    text = f"{word(i)} {hostile if i < 3 * len(HOSTILE) else hostile[:300]}"
    # No NUL in headings: the engine's analyzer stops at a NUL, so the words of the text
    # (after the heading in ``search_text``) would go unindexed, on either path.
    heading = "Über > 章节 \x1b[1m'h'\x7f" if i % 2 else ""
    return Chunk(
        id=f"{source}#{i}",
        source=source,
        text=text,
        heading=heading,
        line_start=i + 1 if i % 3 else None,
        line_end=i + 2 if i % 3 else None,
        page=i % 5 or None,
        index=i,
        anchor=f"a-{i}" if i % 4 else "",
        root="/docs",
    )


def files(rows: int, count: int = 3, folder: str = "/docs", start: int = 0) -> list[FileWrite]:
    """``count`` files of ``rows`` chunks in all, hostile text in every one of them.

    Chunk ``i`` (from ``start``) says ``word(i)``: another call's ``start`` gives other
    passages (equal ones would be stored once, as copies).
    """
    sources = [f"{folder}/f{n} 'q' \"d\" 中文.md" for n in range(count)]
    writes: list[FileWrite] = []
    for n, source in enumerate(sources):
        chunks = [hostile_chunk(source, i) for i in range(start + n, start + rows, count)]
        vectors = [embed_text(c.text, DIM) for c in chunks]
        writes.append((source, f"hash{n}", chunks, vectors))
    return writes


def stored(store: KnowledgeStore) -> dict[str, dict[str, Any]]:
    """Every chunk row of the store, by chunk id (the version cut off the primary key)."""
    fields = ["id", "source", "file_hash", "version", "heading", "text", "line_start"]
    fields += ["line_end", "page", "idx", "anchor", "root", "key"]
    if store.dense_dim:
        fields.append("dense")
    rows = store.connection.call(
        "reading back",
        lambda c: c.query(
            store.collection,
            filter="idx >= 0",
            output_fields=fields,
            limit=16_384,
            consistency_level="Strong",
        ),
    )
    return {str(row["id"]).rsplit(":", 1)[0]: row for row in rows}


def assert_round_trip(store: KnowledgeStore, writes: list[FileWrite]) -> None:
    """Every chunk is stored as given, BM25 finds each sampled one, dense search too."""
    rows = stored(store)
    expected = {c.id: (file_hash, c, v) for _, file_hash, cs, vs in writes for c, v in zip(cs, vs)}
    assert sorted(rows) == sorted(expected)
    versions: dict[str, set[str]] = {}
    for chunk_id, (file_hash, chunk, vector) in expected.items():
        row = rows[chunk_id]
        assert row["text"] == chunk.text
        assert row["source"] == chunk.source and row["file_hash"] == file_hash
        assert row["heading"] == chunk.heading and row["anchor"] == chunk.anchor
        assert row["root"] == chunk.root and row["idx"] == chunk.index
        located = (row["line_start"], row["line_end"], row["page"])
        wanted = (chunk.line_start, chunk.line_end, chunk.page)
        assert located == tuple(-1 if v is None else v for v in wanted)
        assert len(row["key"]) == 32
        versions.setdefault(chunk.source, set()).add(row["version"])
        if store.dense_dim:
            assert [float(x) for x in row["dense"]] == [float(np.float32(x)) for x in vector]
    assert all(len(found) == 1 for found in versions.values())
    assert store.sources() == sorted((s, h, len(cs)) for s, h, cs, _ in writes)
    every = list(expected.values())
    sample = every[:: max(1, len(every) // 40)] + every[: len(HOSTILE)]
    for _, chunk, vector in sample:
        hits = store.search_bm25(word(chunk.index), 3)
        assert hits and hits[0].chunk.id == chunk.id and hits[0].chunk.text == chunk.text
        assert hits[0].chunk.heading == chunk.heading
        if store.dense_dim:
            # 16 dimensions: chunks alike in words have (nearly) the same vector, so the
            # nearest hit is one with that vector, not necessarily the same chunk.
            near = store.search_dense(vector, 3)
            assert near and np.dot(embed_text(near[0].chunk.text, DIM), vector) > 0.9999


@pytest.mark.parametrize("dense_dim", [None, DIM], ids=["bm25", "hybrid"])
def test_a_big_write_goes_column_wise_and_every_row_comes_back(
    make_store: Callable[..., KnowledgeStore], kb_name: str, dense_dim: int | None
) -> None:
    store = make_store(kb_name, dense_dim=dense_dim)
    store.ensure()
    writes = files(COLUMN_MIN_ROWS + 200)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store.replace_files(writes)
    assert (store.inserter.column_inserts, store.inserter.row_inserts) == (1, 0)
    assert store.inserter.fallbacks == 0, store.inserter.fallback_reason
    # The ORM's deprecation warnings (FutureWarning) would be printed over the TUI.
    assert [str(w.message) for w in caught if issubclass(w.category, Warning)] == []
    assert_round_trip(store, writes)
    # pandas is imported now: small writes go column-wise too (cheaper per row at any size).
    more = files(60, folder="/more", start=COLUMN_MIN_ROWS + 200)
    store.replace_files(more)
    assert (store.inserter.column_inserts, store.inserter.row_inserts) == (2, 0)
    assert_round_trip(store, writes + more)


@pytest.mark.parametrize("dense_dim", [None, DIM], ids=["bm25", "hybrid"])
def test_a_small_write_goes_as_rows_and_every_row_comes_back(
    make_store: Callable[..., KnowledgeStore], kb_name: str, dense_dim: int | None
) -> None:
    store = make_store(kb_name, dense_dim=dense_dim)
    store.ensure()
    writes = files(60)
    store.replace_files(writes)
    assert (store.inserter.column_inserts, store.inserter.row_inserts) == (0, 1)
    assert_round_trip(store, writes)


class _Dynamic:
    """A client whose new collections take fields beyond the schema's (dynamic fields)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def create_schema(self, **options: Any) -> Any:
        return self._client.create_schema(**{**options, "enable_dynamic_field": True})


def test_rows_with_fields_the_columns_cannot_carry_go_as_dicts_and_come_back(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    store.connection.call(
        "creating", lambda c: create_chunks_collection(_Dynamic(c), store.collection, None)
    )
    store.ensure()
    writes = files(COLUMN_MIN_ROWS + 50)
    store.replace_files(writes)  # rows of the schema's fields: columns carry them
    assert (store.inserter.column_inserts, store.inserter.fallbacks) == (1, 0)
    assert_round_trip(store, writes)
    # A row with a field beyond the schema (kept in the dynamic field) has no column.
    chunks = [hostile_chunk("/extra.md", i) for i in range(5000, 5000 + COLUMN_MIN_ROWS)]
    rows = [
        {**chunk_row(c, "v1", "h", None, locations=LOCATION_FIELDS, dense_dim=None,
                     search_text=True), "later": f"x{c.index}"}
        for c in chunks
    ]
    store.connection.call("inserting", lambda c: store.inserter.insert(c, rows))
    assert (store.inserter.column_inserts, store.inserter.row_inserts) == (1, 1)
    assert store.inserter.fallbacks == 1 and "later" in store.inserter.fallback_reason
    back = store.connection.call(
        "reading back",
        lambda c: c.query(
            store.collection,
            filter='version == "v1"',
            output_fields=["id", "text", "heading", "later"],
            limit=16_384,
            consistency_level="Strong",
        ),
    )
    assert sorted((r["id"], r["text"], r["heading"], r["later"]) for r in back) == sorted(
        (r["id"], r["text"], r["heading"], r["later"]) for r in rows
    )


def test_after_a_reconnect_big_writes_still_go_column_wise(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name)
    first = files(COLUMN_MIN_ROWS, count=2)
    store.replace_files(first)
    store.connection.reset()  # as after a lost server: a new client, a new generation
    store.replace_files(files(COLUMN_MIN_ROWS, count=2, folder="/more", start=COLUMN_MIN_ROWS))
    assert (store.inserter.column_inserts, store.inserter.fallbacks) == (2, 0)
    assert len(stored(store)) == 2 * COLUMN_MIN_ROWS
