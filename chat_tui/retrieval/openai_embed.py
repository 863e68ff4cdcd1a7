"""An embedder for OpenAI-compatible ``/v1/embeddings`` servers (Ollama, vLLM...), and the factory.

Why: users without a Jina key may run a local embedding model; the request is
``{"model", "input": [...]}`` and the answer ``data[].embedding``. ``make_embedder``
picks the embedder the settings ask for, or None (BM25-only retrieval).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from chat_tui.config import EmbeddingSettings
from chat_tui.domain.tokens import cut_to_tokens, estimate_tokens
from chat_tui.errors import EmbeddingError
from chat_tui.retrieval.embed_http import (
    HttpEmbeddingClient,
    plan_batches,
    vectors_from,
)
from chat_tui.retrieval.types import Chunk, Embedder

MAX_INPUT_TOKENS = 8_192
MAX_REQUEST_TOKENS = 64_000


class OpenAIEmbedder:
    """Embeds text with an OpenAI-compatible ``/embeddings`` endpoint (text only; no images).

    ``dimensions`` starts as ``settings.dimensions`` and becomes the real size after
    the first answer (``dimensions_known`` turns True then). ``detect_dimensions()``
    asks the server only while the size is unknown, so callers use it only when they
    need the size (creating a KB), never on a re-ingest that embeds nothing.
    """

    def __init__(self, settings: EmbeddingSettings, *, backoff_base: float = 0.5) -> None:
        self.settings = settings
        self.model = settings.model
        self.dimensions = settings.dimensions
        #: Whether ``dimensions`` is the server's real size (learnt from an answer).
        self.dimensions_known = False
        self.batch_size = settings.batch_size
        #: Text only: ``/embeddings`` takes strings, so image files are not ingested.
        self.multimodal = False
        #: OpenAI-compatible servers have no standard rerank endpoint.
        self.can_rerank = False
        self._http = HttpEmbeddingClient(
            settings,
            service="the embedding server",
            key_env="CHAT_TUI_EMBEDDING_API_KEY",
            backoff_base=backoff_base,
        )

    async def _embed(self, texts: list[str]) -> list[list[float]]:
        body = await self._http.post("embeddings", {"model": self.model, "input": texts})
        vectors = vectors_from(body, len(texts), "the embedding server")
        if vectors:
            self.dimensions = len(vectors[0])
            self.dimensions_known = True
        return vectors

    async def embed_documents(self, chunks: Sequence[Chunk]) -> list[list[float]]:
        """Vectors for ``chunks`` in order."""
        if not chunks:
            return []
        texts = [cut_to_tokens(c.text, MAX_INPUT_TOKENS) for c in chunks]
        batches = plan_batches(
            [estimate_tokens(t) for t in texts], self.settings.batch_size, MAX_REQUEST_TOKENS
        )
        results = await asyncio.gather(*(self._embed([texts[i] for i in r]) for r in batches))
        return [vector for batch in results for vector in batch]

    async def embed_query(self, text: str) -> list[float]:
        """A vector for a question."""
        if not text.strip():
            raise EmbeddingError("cannot embed an empty question")
        return (await self._embed([cut_to_tokens(text, MAX_INPUT_TOKENS)]))[0]

    async def detect_dimensions(self) -> int:
        """The server's real vector size (one tiny request, unless an answer already told)."""
        if not self.dimensions_known:
            await self._embed(["dimension probe"])
        return self.dimensions

    async def rerank(
        self, query: str, documents: Sequence[str], top_n: int
    ) -> list[tuple[int, float]]:
        """Not offered (``can_rerank`` is False): retrieval keeps the search order."""
        raise EmbeddingError("the embedding server has no reranker (embedding.rerank)")

    async def aclose(self) -> None:
        await self._http.aclose()


def make_embedder(settings: EmbeddingSettings) -> Embedder | None:
    """The embedder the settings ask for; None when dense retrieval is off (no key: BM25 only)."""
    if not settings.enabled:
        return None
    if settings.provider == "openai":
        return OpenAIEmbedder(settings)
    from chat_tui.retrieval.jina import JinaEmbedder

    return JinaEmbedder(settings)
