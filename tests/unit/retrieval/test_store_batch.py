"""``KnowledgeStore.replace_files``: many files per write, still all-or-none per file.

Also the ingest pipeline's use of it: files go to the store in batches, progress is still
reported per file, and the knowledge base is flushed once at the end.
"""

from __future__ import annotations

import collections
import os
import signal
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from chat_tui.config import Settings
from chat_tui.errors import RetrievalError
from chat_tui.ingest.pipeline import ingest_paths
from chat_tui.retrieval import milvus_store
from chat_tui.retrieval.milvus_connection import MilvusConnection
from chat_tui.retrieval.milvus_store import FileWrite, KnowledgeStore
from chat_tui.retrieval.types import Chunk
from tests.support.fake_jina import FakeJina, embed_text
from tests.unit.retrieval.test_concurrency import BLOCK_AT_CALL, row_count, spawn

DIM = 16


def chunks_for(source: str, word: str, count: int) -> list[Chunk]:
    return [
        Chunk(id=f"{source}#{i}", source=source, text=f"{word} part {i} of {source}", index=i)
        for i in range(count)
    ]


def write_of(source: str, file_hash: str, word: str, count: int, dense: bool = True) -> FileWrite:
    chunks = chunks_for(source, word, count)
    return source, file_hash, chunks, [embed_text(c.text, DIM) for c in chunks] if dense else None


def found(store: KnowledgeStore, word: str) -> list[str]:
    return sorted(p.chunk.text for p in store.search_bm25(word, 50))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter[str]]:
    """How many store requests of each kind were made (the real requests still run)."""
    counted: collections.Counter[str] = collections.Counter()
    original = MilvusConnection.call

    def counting(self: MilvusConnection, what: str, action: Callable[[Any], Any]) -> Any:
        counted[what] += 1
        return original(self, what, action)

    monkeypatch.setattr(MilvusConnection, "call", counting)
    yield counted


def test_one_batch_makes_one_insert_one_commit_and_no_delete_for_new_files(
    make_store: Callable[..., KnowledgeStore], kb_name: str, calls: collections.Counter[str]
) -> None:
    store = make_store(kb_name, dense_dim=DIM)
    store.ensure()
    calls.clear()
    store.replace_files([write_of(f"/d/{n}.md", f"h{n}", f"alpha{n}", 3) for n in range(5)])
    assert calls["inserting"] == 1 and calls["flushing"] == 1
    assert calls["deleting old rows"] == 0  # new files: nothing to clean up
    assert calls["registering"] == 3  # pending markers, the commit, removing the markers
    assert store.sources() == [(f"/d/{n}.md", f"h{n}", 3) for n in range(5)]
    assert found(store, "alpha3") == [f"alpha3 part {i} of /d/3.md" for i in range(3)]


def test_a_batch_replaces_old_versions_and_adds_new_files(
    make_store: Callable[..., KnowledgeStore], kb_name: str, calls: collections.Counter[str]
) -> None:
    store = make_store(kb_name, dense_dim=DIM)
    store.replace_files([write_of(f"/d/{n}.md", "old", "oldword", 4) for n in range(3)])
    calls.clear()
    store.replace_files(
        [write_of("/d/1.md", "new", "newword", 2), write_of("/d/9.md", "new", "newword", 1)]
    )
    assert calls["deleting old rows"] == 1  # the old version, by version, after the commit
    assert store.file_hashes() == {
        "/d/0.md": "old",
        "/d/1.md": "new",
        "/d/2.md": "old",
        "/d/9.md": "new",
    }
    assert [row_count(store, f"/d/{n}.md") for n in (0, 1, 2, 9)] == [4, 2, 4, 1]
    assert len(found(store, "oldword")) == 8
    assert found(store, "newword") == sorted(
        ["newword part 0 of /d/1.md", "newword part 1 of /d/1.md", "newword part 0 of /d/9.md"]
    )


def test_large_batches_are_split_into_several_inserts(
    make_store: Callable[..., KnowledgeStore],
    kb_name: str,
    calls: collections.Counter[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(milvus_store, "INSERT_REQUEST_BYTES", 1500)
    store = make_store(kb_name)
    store.replace_files(
        [write_of(f"/s/{n}.md", "h", "splitword", 5, dense=False) for n in range(4)]
    )
    assert calls["inserting"] >= 4  # ~360 bytes per row here: 4 rows per request
    assert calls["registering"] == 3
    assert len(found(store, "splitword")) == 20


def test_unflushed_writes_are_visible_at_once(
    make_store: Callable[..., KnowledgeStore], kb_name: str, calls: collections.Counter[str]
) -> None:
    store = make_store(kb_name)
    store.replace_files([write_of("/u.md", "h", "unflushedword", 2, dense=False)], flush=False)
    assert calls["flushing"] == 0
    assert len(found(store, "unflushedword")) == 2
    store.flush()
    assert calls["flushing"] == 1


def test_bad_batches_are_refused_before_anything_is_written(
    make_store: Callable[..., KnowledgeStore], kb_name: str
) -> None:
    store = make_store(kb_name, dense_dim=DIM)
    store.replace_files([write_of("/a.md", "old", "keptword", 2)])
    twice = [write_of("/b.md", "h", "x", 1), write_of("/b.md", "h", "x", 1)]
    with pytest.raises(RetrievalError, match="twice"):
        store.replace_files(twice)
    source, file_hash, chunks, _ = write_of("/a.md", "new", "lostword", 2)
    with pytest.raises(RetrievalError, match="2 chunks but 1 vectors"):
        store.replace_files(
            [write_of("/c.md", "h", "lostword", 1), (source, file_hash, chunks, [[0.0] * DIM])]
        )
    assert store.file_hashes() == {"/a.md": "old"}
    assert found(store, "lostword") == [] and len(found(store, "keptword")) == 2


KILL_BATCH_CHILD = BLOCK_AT_CALL + textwrap.dedent(
    """
    def chunks(source, count):
        return [Chunk(id=f"n{i}", source=source, text=f"new zebra {source} {i}", index=i)
                for i in range(count)]
    store.replace_files([(s, "new-hash", chunks(s, 2), None) for s in ("/a.md", "/b.md", "/c.md")])
    print("FINISHED", flush=True)
    """
)


@pytest.mark.parametrize(
    ("what", "nth", "committed"),
    [("registering", 2, False), ("deleting old rows", 1, True)],
    ids=["inserted-not-registered", "registered-old-rows-left"],
)
def test_killed_batch_leaves_every_file_old_or_new_never_half(
    make_store: Callable[..., KnowledgeStore],
    kb_name: str,
    kb_settings: Settings,
    what: str,
    nth: int,
    committed: bool,
) -> None:
    store = make_store(kb_name)
    store.ensure()
    old = [
        Chunk(id=f"o{i}", source="/a.md", text=f"old zebra /a.md {i}", index=i) for i in range(3)
    ]
    store.replace_file("/a.md", "old-hash", old, None)

    child = spawn(KILL_BATCH_CHILD, str(kb_settings.data_dir), kb_name, what, str(nth))
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "BLOCKED"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    if committed:
        expected_hashes = {s: "new-hash" for s in ("/a.md", "/b.md", "/c.md")}
        expected = sorted(
            f"new zebra {s} {i}" for s in ("/a.md", "/b.md", "/c.md") for i in range(2)
        )
    else:
        expected_hashes = {"/a.md": "old-hash"}
        expected = [f"old zebra /a.md {i}" for i in range(3)]
    assert store.file_hashes() == expected_hashes
    assert found(store, "zebra") == expected
    fresh = KnowledgeStore(kb_settings, kb_name)
    try:
        fresh.ensure()  # cleans up after the dead writer
        counts = [row_count(fresh, s) for s in ("/a.md", "/b.md", "/c.md")]
        assert counts == ([2, 2, 2] if committed else [3, 0, 0])
        assert found(fresh, "zebra") == expected
    finally:
        fresh.close()


class RecordingStore(KnowledgeStore):
    """The real store, remembering how ingest called it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[list[str]] = []
        self.flushes = 0

    def replace_files(self, items: Sequence[FileWrite], *, flush: bool = True) -> None:
        self.batches.append([source for source, _, _, _ in items])
        super().replace_files(items, flush=flush)

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


class FileDone:
    def __init__(self) -> None:
        self.done: list[tuple[str, int]] = []

    def started(self, total_files: int) -> None:
        pass

    def file_done(self, path: str, chunks: int) -> None:
        self.done.append((path, chunks))

    def file_skipped(self, path: str, reason: str) -> None:
        pass

    def chunks_embedded(self, n: int) -> None:
        pass


async def test_ingest_stores_in_batches_reports_per_file_and_flushes_once(
    tmp_path: Path, jina_settings: Settings, fake_jina: FakeJina, kb_name: str
) -> None:
    files = 40
    for number in range(files):
        (tmp_path / f"n{number:02d}.md").write_text(
            f"# Note {number}\n\nThe batchword note number {number}.\n", encoding="utf-8"
        )
    store = RecordingStore(jina_settings, kb_name, dense_dim=64)
    progress = FileDone()
    try:
        report = await ingest_paths(
            [tmp_path],
            settings=jina_settings,
            knowledge_base=kb_name,
            store=store,
            progress=progress,
        )
        assert len(report.added) == files and report.chunks == files
        stored = [source for batch in store.batches for source in batch]
        assert sorted(stored) == sorted(report.added)  # every file written exactly once
        assert len(store.batches) < files  # ...in batches, not one call per file
        assert sorted(progress.done) == sorted((source, 1) for source in report.added)
        assert store.flushes == 1
        assert len(store.sources()) == files
        assert len(store.search_bm25("batchword", 50)) == files
    finally:
        store.drop()
        store.close()
