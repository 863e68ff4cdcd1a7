"""Fixtures for the retrieval tests (the Milvus Lite server is ``milvus_data_dir``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from chat_tui.config import EmbeddingSettings, ProviderSettings, Settings
from tests.support.fake_jina import FakeJina

_names = itertools.count()


def base_settings(data_dir: Path, embedding: EmbeddingSettings | None = None) -> Settings:
    provider = ProviderSettings(name="openai", base_url="http://127.0.0.1:9/v1", model="fake")
    settings = Settings(provider=provider, providers={"openai": provider}, data_dir=data_dir)
    return replace(settings, embedding=embedding or EmbeddingSettings(provider="none"))


@pytest.fixture
def kb_settings(milvus_data_dir: Path) -> Settings:
    """Settings using the session's Milvus server, no embedder."""
    return base_settings(milvus_data_dir)


@pytest.fixture
def jina_settings(milvus_data_dir: Path, fake_jina: FakeJina) -> Settings:
    """Settings using the session's Milvus server and the fake Jina (64 dimensions)."""
    embedding = EmbeddingSettings(
        provider="jina",
        base_url=fake_jina.url,
        api_key=fake_jina.api_key,
        dimensions=64,
        max_retries=2,
    )
    return base_settings(milvus_data_dir, embedding)


@pytest.fixture
def kb_name(request: pytest.FixtureRequest) -> str:
    """A knowledge-base name unique to the test (collections share one server)."""
    return f"t{next(_names)}_{request.node.name[:30]}"


@pytest.fixture
def make_store(kb_settings: Settings) -> Iterator[Callable[..., object]]:
    from chat_tui.retrieval.milvus_store import KnowledgeStore

    made: list[KnowledgeStore] = []

    def make(
        name: str, settings: Settings | None = None, dense_dim: int | None = None
    ) -> KnowledgeStore:
        store = KnowledgeStore(settings or kb_settings, name, dense_dim=dense_dim)
        made.append(store)
        return store

    yield make
    for store in made:
        try:
            store.drop()
        finally:
            store.close()
