"""Opening the knowledge base an ingest writes to, and proving the embedder works.

Why it is apart from the pipeline: deciding the dense vector size is the one step that may
cost an embedding request (OpenAI-compatible servers only say their size in an answer), and
a rebuild must prove the embedder works before it drops anything. Both rules live here, so
the pipeline only asks for a store.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from chat_tui.config import Settings
from chat_tui.errors import EmbeddingError
from chat_tui.retrieval.types import Chunk, Embedder

if TYPE_CHECKING:
    from chat_tui.retrieval.milvus_store import KnowledgeStore

__all__ = ["open_store", "probe_embedder"]


def _known_dimensions(embedder: Embedder | None) -> int | None:
    """The embedder's vector size if it is known without a request, else None."""
    if embedder is None or not embedder.dimensions_known:
        return None
    return embedder.dimensions


async def _detect_dimensions(embedder: Embedder) -> int:
    """The embedder's vector size; an OpenAI-compatible server is asked (one tiny request)."""
    return await embedder.detect_dimensions()


async def probe_embedder(embedder: Embedder) -> int:
    """Embed one tiny passage: proves the key and the service work; returns the vector size.

    Raises:
        EmbeddingError: the embedder refused or failed.
    """
    probe = Chunk(id="probe", source="", text="dimension probe")
    vectors = await embedder.embed_documents([probe])
    if len(vectors) != 1 or not vectors[0]:
        raise EmbeddingError("the embedder returned no vector for a one-line probe")
    return len(vectors[0])


async def open_store(
    settings: Settings, knowledge_base: str, embedder: Embedder | None, rebuild: bool
) -> KnowledgeStore:
    """A store for ``knowledge_base`` that knows the dense size when it may have to create it.

    With ``rebuild`` the embedder is probed first (``probe_embedder``), so a bad key or an
    unreachable service raises before the caller drops anything. Otherwise the size costs
    an embedding request only for an OpenAI-compatible server and only when the knowledge
    base does not exist yet, so re-ingesting an unchanged tree makes no embedding calls.
    An existing KB has its size; a mismatch is caught when vectors are written.

    Raises:
        EmbeddingError: the probe failed.
        RetrievalError: the store could not be reached while checking the KB.
    """
    from chat_tui.retrieval.milvus_store import KnowledgeStore

    if rebuild:
        dimensions = None if embedder is None else await probe_embedder(embedder)
        return KnowledgeStore(settings, knowledge_base, dense_dim=dimensions)
    known = _known_dimensions(embedder)
    store = KnowledgeStore(settings, knowledge_base, dense_dim=known)
    if embedder is None or known is not None:
        return store
    try:
        exists = await asyncio.to_thread(store.exists)
    except BaseException:
        await asyncio.to_thread(store.close)
        raise
    if exists:
        return store
    await asyncio.to_thread(store.close)
    dimensions = await _detect_dimensions(embedder)
    return KnowledgeStore(settings, knowledge_base, dense_dim=dimensions)
