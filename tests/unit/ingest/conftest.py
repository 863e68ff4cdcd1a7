"""Fixtures for the ingest tests: settings builders (the server is ``milvus_data_dir``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from chat_tui.config import EmbeddingSettings, IngestSettings, ProviderSettings, Settings
from chat_tui.retrieval.milvus_store import KnowledgeStore
from tests.support.corpus import SMALL_MAX_FILE_MB
from tests.support.fake_jina import FakeJina

_names = itertools.count()

#: Small vectors keep Milvus writes fast; the pipeline does not care about the size.
DIMENSIONS = 32


def ingest_settings(
    data_dir: Path,
    embedding: EmbeddingSettings | None = None,
    *,
    chunk_tokens: int = 120,
    chunk_overlap: int = 20,
    max_file_mb: float = SMALL_MAX_FILE_MB,
) -> Settings:
    """Settings for an ingest test (no embedder unless one is given)."""
    provider = ProviderSettings(name="openai", base_url="http://127.0.0.1:9/v1", model="fake")
    settings = Settings(provider=provider, providers={"openai": provider}, data_dir=data_dir)
    return replace(
        settings,
        embedding=embedding or EmbeddingSettings(provider="none"),
        ingest=IngestSettings(
            chunk_tokens=chunk_tokens, chunk_overlap=chunk_overlap, max_file_mb=max_file_mb
        ),
    )


def jina_embedding(fake: FakeJina, **changes: object) -> EmbeddingSettings:
    """Embedding settings aimed at the fake Jina server."""
    embedding = EmbeddingSettings(
        provider="jina",
        base_url=fake.url,
        api_key=fake.api_key,
        dimensions=DIMENSIONS,
        max_retries=0,
    )
    return replace(embedding, **changes)  # type: ignore[arg-type]


@pytest.fixture
def kb_name(request: pytest.FixtureRequest) -> str:
    """A knowledge-base name unique to the test (all tests share one server)."""
    return f"ingest{next(_names)}_{request.node.name[:24]}"


@pytest.fixture
def store(settings: Settings, kb_name: str) -> Iterator[KnowledgeStore]:
    """The test's knowledge base (``settings`` is each module's own), dropped afterwards."""
    opened = KnowledgeStore(settings, kb_name)
    yield opened
    try:
        opened.drop()
    finally:
        opened.close()
