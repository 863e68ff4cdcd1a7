"""The Jina embeddings (and reranker) client.

Why: Jina is chat-tui's default embedder (``jina-embeddings-v4``, also v3),
reached over plain httpx so no SDK is needed. Documents are embedded with task
``retrieval.passage`` and questions with ``retrieval.query``; chunks that carry
an image are sent as ``{"image": "<base64>"}`` items (v4 and CLIP only), the form
Jina documents: the bare base64 of the file, no ``data:`` prefix. Batching,
concurrency and retries live in ``embed_http``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from chat_tui.config import EmbeddingSettings
from chat_tui.domain.tokens import cut_to_tokens, estimate_tokens
from chat_tui.errors import EmbeddingError
from chat_tui.retrieval.embed_http import (
    IMAGE_TOKENS,
    HttpEmbeddingClient,
    plan_batches,
    vectors_from,
)
from chat_tui.retrieval.types import Chunk

#: Jina v4 accepts at most 512 inputs per request (v3: 2,048; 512 is safe for both).
MAX_INPUTS_PER_REQUEST = 512
#: Estimated tokens per input before it is cut (v3's context; v4 takes 32k).
MAX_INPUT_TOKENS = 8_192
#: Estimated tokens per request, to keep each request small enough to retry cheaply.
MAX_REQUEST_TOKENS = 64_000
#: The Jina models that embed images (the ingest then loads image files).
MULTIMODAL_MODELS = ("jina-embeddings-v4", "jina-clip")


def bare_base64(image: str) -> str:
    """A chunk's image as Jina takes it: ``data:image/png;base64,XXXX`` becomes ``XXXX``.

    A URL or an already bare string is left as it is.
    """
    if image.startswith("data:") and ";base64," in image:
        return image.split(";base64,", 1)[1]
    return image


class JinaEmbedder:
    """Embeds chunks and questions with Jina (implements ``Embedder``).

    Args:
        settings: ``settings.embedding`` (model, dimensions, key, batch size, concurrency...).
        backoff_base: first retry delay in seconds; tests pass a tiny one.
    """

    def __init__(self, settings: EmbeddingSettings, *, backoff_base: float = 0.5) -> None:
        self.settings = settings
        self.model = settings.model
        self.dimensions = settings.dimensions
        #: Jina honours ``dimensions``, so the size is known without asking.
        self.dimensions_known = True
        self.batch_size = settings.batch_size
        #: Jina has a reranker (used when ``embedding.rerank`` is on).
        self.can_rerank = True
        self.max_inputs = max(1, min(settings.batch_size, MAX_INPUTS_PER_REQUEST))
        self.max_request_tokens = MAX_REQUEST_TOKENS
        self.max_input_tokens = MAX_INPUT_TOKENS
        self._http = HttpEmbeddingClient(
            settings, service="Jina", key_env="JINA_API_KEY", backoff_base=backoff_base
        )

    @property
    def multimodal(self) -> bool:
        """Whether the model embeds images (v4, CLIP), so image files are ingested."""
        return any(name in self.model for name in MULTIMODAL_MODELS)

    @property
    def _takes_images(self) -> bool:
        return "v3" not in self.model

    def _item(self, chunk: Chunk, as_objects: bool) -> str | dict[str, str]:
        if chunk.image and self._takes_images:
            return {"image": bare_base64(chunk.image)}
        text = cut_to_tokens(chunk.text, self.max_input_tokens)
        return {"text": text} if as_objects else text

    def _cost(self, chunk: Chunk) -> int:
        if chunk.image and self._takes_images:
            return IMAGE_TOKENS
        return min(self.max_input_tokens, estimate_tokens(chunk.text))

    async def _embed(self, items: list[Any], task: str) -> list[list[float]]:
        body = await self._http.post(
            "embeddings",
            {
                "model": self.model,
                "input": items,
                "task": task,
                "dimensions": self.dimensions,
                "embedding_type": "float",
            },
        )
        return vectors_from(body, len(items), "Jina")

    async def embed_documents(self, chunks: Sequence[Chunk]) -> list[list[float]]:
        """Vectors for ``chunks`` in order (task ``retrieval.passage``).

        Raises:
            EmbeddingError: Jina refused or failed (one line, never the key).
        """
        if not chunks:
            return []
        batches = plan_batches(
            [self._cost(c) for c in chunks], self.max_inputs, self.max_request_tokens
        )

        async def run(indexes: range) -> list[list[float]]:
            batch = [chunks[i] for i in indexes]
            as_objects = any(c.image for c in batch) and self._takes_images
            return await self._embed(
                [self._item(c, as_objects) for c in batch], "retrieval.passage"
            )

        results = await asyncio.gather(*(run(indexes) for indexes in batches))
        return [vector for batch in results for vector in batch]

    async def embed_query(self, text: str) -> list[float]:
        """A vector for a question (task ``retrieval.query``)."""
        if not text.strip():
            raise EmbeddingError("cannot embed an empty question")
        return (await self._embed([cut_to_tokens(text, self.max_input_tokens)], "retrieval.query"))[
            0
        ]

    async def detect_dimensions(self) -> int:
        """The vector size (Jina honours ``dimensions``, so no request is needed)."""
        return self.dimensions

    async def rerank(
        self, query: str, documents: Sequence[str], top_n: int
    ) -> list[tuple[int, float]]:
        """``(document index, relevance score)`` best first, via Jina's reranker.

        Raises:
            EmbeddingError: Jina refused or failed.
        """
        if not documents:
            return []
        body = await self._http.post(
            "rerank",
            {
                "model": self.settings.rerank_model,
                "query": query,
                "documents": list(documents),
                "top_n": top_n,
                "return_documents": False,
            },
        )
        try:
            results = [(int(r["index"]), float(r["relevance_score"])) for r in body["results"]]
        except (KeyError, TypeError, ValueError):
            raise EmbeddingError("Jina sent a rerank response in an unexpected format") from None
        return sorted(results, key=lambda pair: -pair[1])[:top_n]

    async def aclose(self) -> None:
        await self._http.aclose()
