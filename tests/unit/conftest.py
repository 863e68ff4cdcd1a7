"""Fixtures shared by the unit tests: one real Milvus Lite server for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def milvus_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir whose knowledge bases are served by one local server for the session.

    The retrieval and ingest tests share it; each test uses its own knowledge-base name.
    """
    from chat_tui.retrieval.milvus_server import ensure_local_server, stop_local_server

    data_dir = tmp_path_factory.mktemp("kb-data")
    ensure_local_server(data_dir / "knowledge", idle_seconds=600)
    try:
        yield data_dir
    finally:
        stop_local_server(data_dir / "knowledge")
