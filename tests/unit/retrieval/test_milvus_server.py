"""The local Milvus Lite server launcher: reuse, racing starters, idle exit, stop."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

from chat_tui.retrieval import milvus_server
from chat_tui.retrieval.milvus_server import (
    ensure_local_server,
    running_local_server,
    stop_local_server,
)


def test_session_server_is_reused(milvus_data_dir: Path) -> None:
    knowledge_dir = milvus_data_dir / "knowledge"
    running = running_local_server(knowledge_dir)
    assert running is not None
    assert ensure_local_server(knowledge_dir) == running.uri


def test_racing_starters_start_exactly_one_server_which_stops(tmp_path: Path) -> None:
    knowledge_dir = tmp_path / "knowledge"
    try:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            uris = list(pool.map(lambda _: ensure_local_server(knowledge_dir), range(3)))
        assert len(set(uris)) == 1
        running = running_local_server(knowledge_dir)
        assert running is not None and running.uri == uris[0]
        assert stop_local_server(knowledge_dir) is True
        assert running_local_server(knowledge_dir) is None
    finally:
        stop_local_server(knowledge_dir)
    assert stop_local_server(knowledge_dir) is False


def test_idle_server_exits_by_itself_and_a_new_one_starts(tmp_path: Path) -> None:
    knowledge_dir = tmp_path / "knowledge"
    try:
        ensure_local_server(knowledge_dir, idle_seconds=0.3)
        child = milvus_server._children[-1]
        assert child.wait(timeout=60) == 0  # exits on its own once idle
        assert running_local_server(knowledge_dir) is None
        assert not (knowledge_dir / "server" / "state.json").exists()
        uri = ensure_local_server(knowledge_dir)  # the data dir is free again
        assert running_local_server(knowledge_dir) is not None
        assert uri.startswith("unix:")  # a socket, not a port other users could reach
        assert stop_local_server(knowledge_dir)
    finally:
        stop_local_server(knowledge_dir)


def test_configured_uri_is_used_directly(tmp_path: Path) -> None:
    assert milvus_server.milvus_connection(tmp_path, "https://milvus.example:19530", "tok") == (
        "https://milvus.example:19530",
        "tok",
    )
    assert not (tmp_path / "server").exists()


def test_store_reconnects_after_the_server_went_away(tmp_path: Path) -> None:
    from chat_tui.retrieval.milvus_store import KnowledgeStore
    from chat_tui.retrieval.types import Chunk
    from tests.unit.retrieval.conftest import base_settings

    settings = base_settings(tmp_path)
    store = KnowledgeStore(settings, "kb")
    try:
        store.ensure()
        chunk = Chunk(id="1", source="/a.md", text="persistent penguins")
        store.replace_file("/a.md", "h", [chunk], None)
        first = running_local_server(settings.knowledge_dir)
        assert first is not None and stop_local_server(settings.knowledge_dir)
        found = store.search_bm25("penguins", 1)  # a new server is started on the same data
        assert [p.chunk.text for p in found] == ["persistent penguins"]
        second = running_local_server(settings.knowledge_dir)
        assert second is not None and second.pid != first.pid
    finally:
        store.close()
        stop_local_server(settings.knowledge_dir)
