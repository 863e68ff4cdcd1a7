"""All-or-none writes under SIGKILL, and two processes using one knowledge base at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from chat_tui.config import Settings
from chat_tui.retrieval.milvus_store import KnowledgeStore
from chat_tui.retrieval.types import Chunk

ROOT = Path(__file__).resolve().parents[3]

CHILD_PRELUDE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from chat_tui.config import ProviderSettings, Settings
    from chat_tui.retrieval.milvus_connection import MilvusConnection
    from chat_tui.retrieval.milvus_store import KnowledgeStore
    from chat_tui.retrieval.types import Chunk

    provider = ProviderSettings(name="openai", base_url="http://127.0.0.1:9/v1", model="fake")
    settings = Settings(
        provider=provider, providers={"openai": provider}, data_dir=Path(sys.argv[1])
    )
    store = KnowledgeStore(settings, sys.argv[2])
    """
)

# Blocks at the N-th store call named WHAT (printing a marker first), so the parent
# can SIGKILL it at exactly that point of a write.
BLOCK_AT_CALL = CHILD_PRELUDE + textwrap.dedent(
    """
    what, nth = sys.argv[3], int(sys.argv[4])
    seen = {"n": 0}
    original = MilvusConnection.call

    def blocking_call(self, name, action):
        if name == what:
            seen["n"] += 1
            if seen["n"] == nth:
                print("BLOCKED", flush=True)
                sys.stdin.readline()
        return original(self, name, action)

    MilvusConnection.call = blocking_call
    """
)

KILL_CHILD = BLOCK_AT_CALL + textwrap.dedent(
    """
    chunks = [
        Chunk(id=f"n{i}", source="/doc.md", text=f"new version zebra line {i}", index=i)
        for i in range(4)
    ]
    store.replace_file("/doc.md", "new-hash", chunks, None)
    print("FINISHED", flush=True)
    """
)

WRITER_CHILD = CHILD_PRELUDE + textwrap.dedent(
    """
    store.ensure()
    for i in range(int(sys.argv[3])):
        word = f"uniqueword{i}"
        chunk = Chunk(id="c", source=f"/w{i}.md", text=f"text with {word}")
        store.replace_file(f"/w{i}.md", f"h{i}", [chunk], None)
        print(f"WROTE {i}", flush=True)
    sys.stdin.readline()
    """
)


def spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def texts(store: KnowledgeStore, query: str) -> list[str]:
    return sorted(p.chunk.text for p in store.search_bm25(query, 10))


def row_count(store: KnowledgeStore, source: str) -> int:
    client = store.connection.client()
    return len(
        client.query(
            store.collection, filter=f'source == "{source}"', output_fields=["id"], limit=100
        )
    )


@pytest.mark.parametrize(
    ("stage", "what", "nth", "expected_hash"),
    [
        ("inserted, not registered", "registering", 2, "old-hash"),
        ("registered, old rows not deleted", "deleting old rows", 1, "new-hash"),
    ],
)
def test_killed_writer_leaves_old_or_new_never_half(
    make_store: Callable[..., KnowledgeStore],
    kb_name: str,
    kb_settings: Settings,
    stage: str,
    what: str,
    nth: int,
    expected_hash: str,
) -> None:
    store = make_store(kb_name)
    store.ensure()
    old = [
        Chunk(id=f"o{i}", source="/doc.md", text=f"old version zebra line {i}", index=i)
        for i in range(3)
    ]
    store.replace_file("/doc.md", "old-hash", old, None)

    child = spawn(KILL_CHILD, str(kb_settings.data_dir), kb_name, what, str(nth))
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "BLOCKED", stage
    assert row_count(store, "/doc.md") == 7  # both versions' rows are in the collection...
    expected = [
        f"{'old' if expected_hash == 'old-hash' else 'new'} version zebra line {i}"
        for i in range(3 if expected_hash == "old-hash" else 4)
    ]
    assert texts(store, "zebra") == expected  # ...but searches see exactly one whole version
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    assert store.file_hashes() == {"/doc.md": expected_hash}
    assert texts(store, "zebra") == expected
    fresh = KnowledgeStore(kb_settings, kb_name)
    fresh.ensure()  # cleans up after the dead writer
    assert row_count(fresh, "/doc.md") == len(expected)
    assert texts(fresh, "zebra") == expected
    fresh.close()


def test_two_processes_write_and_search_at_once(
    make_store: Callable[..., KnowledgeStore], kb_name: str, kb_settings: Settings
) -> None:
    files = 4
    child = spawn(WRITER_CHILD, str(kb_settings.data_dir), kb_name, str(files))
    assert child.stdout is not None and child.stdin is not None
    reader = make_store(kb_name)
    try:
        for i in range(files):
            assert child.stdout.readline().strip() == f"WROTE {i}"
            found = reader.search_bm25(f"uniqueword{i}", 3)
            assert [p.chunk.source for p in found] == [f"/w{i}.md"]
        assert child.poll() is None  # the writer is still connected while we search
    finally:
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.wait(timeout=60) == 0
    assert len(reader.sources()) == files
