"""Values and contracts shared by ingest and retrieval.

Ingest produces ``Chunk`` values; the store keeps them with their vectors; the
retriever returns ``Passage`` values that the chat service turns into a context
block and ``Citation`` values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chat_tui.domain.models import Citation


@dataclass(frozen=True)
class Chunk:
    """A piece of a document, sized for embedding, that keeps where it came from.

    Attributes:
        id: stable id (hash of source path + chunk index + text), used as primary key.
        source: the file path (absolute, as ingested).
        text: the chunk's text.
        heading: heading path inside the document ("Install > Linux"), or "".
        line_start / line_end: 1-based line range in the source, or None.
        page: 1-based PDF page, or None.
        index: position of the chunk in its file.
        file_hash: content hash of the whole source file (for incremental ingest).
        image: base64 data URI of an image for multimodal embedders, or None.
        anchor: the nearest ``id`` anchor above the chunk (HTML), so ``source#anchor``
            opens the spot; "" when the format has none.
        root: the folder the ingest was given (sources are shown relative to it), or "".
        summary: what the whole file is about in a line (a man page's NAME line, "kill -
            终止进程"), which BM25 reads with every chunk of it (``search_text``); not
            stored on its own, "" for most formats.
    """

    id: str
    source: str
    text: str
    heading: str = ""
    line_start: int | None = None
    line_end: int | None = None
    page: int | None = None
    index: int = 0
    file_hash: str = ""
    image: str | None = None
    anchor: str = ""
    root: str = ""
    summary: str = ""

    def citation(
        self, score: float = 0.0, knowledge_base: str = "default", also_in: Sequence[str] = ()
    ) -> Citation:
        """The citation of this chunk, safe to store and show (names pass ``clean_line``).

        Citations are stored with the answer and shown wherever it is; a file name or a
        heading with escape sequences must not act on the terminal in any of those places
        (rows stored before headings were cleaned at ingest are cleaned here too).
        """
        from chat_tui.domain.text import clean_line

        return Citation(
            source=clean_line(self.source),
            heading=clean_line(self.heading),
            page=self.page,
            line_start=self.line_start,
            line_end=self.line_end,
            score=score,
            knowledge_base=knowledge_base,
            anchor=clean_line(self.anchor),
            root=clean_line(self.root),
            also_in=tuple(clean_line(source) for source in also_in),
        )


@dataclass(frozen=True)
class Passage:
    """A chunk found by a search, with its score (higher is better).

    ``key`` is the passage key (``chunk_key.dedup_key``) when the KB stores passages
    once, and ``also_in`` the other files holding a copy of the passage.
    """

    chunk: Chunk
    score: float
    knowledge_base: str = "default"
    key: str = ""
    also_in: tuple[str, ...] = ()

    def citation(self) -> Citation:
        return self.chunk.citation(self.score, self.knowledge_base, self.also_in)


class Embedder(Protocol):
    """Turns text (or images) into vectors.

    What an embedder can do is declared here, by every embedder, rather than probed with
    ``getattr``: the pipeline and the retriever read these properties, and a new embedder
    that forgets one fails the type check instead of silently losing a feature.
    """

    model: str
    dimensions: int

    @property
    def dimensions_known(self) -> bool:
        """Whether ``dimensions`` is the real vector size without asking the service."""
        ...

    @property
    def multimodal(self) -> bool:
        """Whether ``embed_documents`` takes image chunks (else images are not ingested)."""
        ...

    @property
    def batch_size(self) -> int:
        """How many chunks the ingest pipeline hands ``embed_documents`` at a time."""
        ...

    @property
    def can_rerank(self) -> bool:
        """Whether ``rerank`` works; only then does retrieval ask for more candidates."""
        ...

    async def embed_documents(self, chunks: Sequence[Chunk]) -> list[list[float]]:
        """Vectors for document chunks (task ``retrieval.passage``)."""
        ...

    async def embed_query(self, text: str) -> list[float]:
        """A vector for a question (task ``retrieval.query``)."""
        ...

    async def detect_dimensions(self) -> int:
        """The real vector size (an OpenAI-compatible server is asked once)."""
        ...

    async def rerank(
        self, query: str, documents: Sequence[str], top_n: int
    ) -> list[tuple[int, float]]:
        """``(document index, relevance score)`` best first; only when ``can_rerank``."""
        ...

    async def aclose(self) -> None: ...
