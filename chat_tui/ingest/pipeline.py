"""The ingest pipeline: walk -> load -> chunk -> embed -> store; incremental, all-or-none per file.

Why it is shaped this way:

* **Incremental.** Each file's sha256 is compared with the hash the store holds for it; an
  unchanged file is neither parsed nor embedded, so re-running an ingest is cheap.
* **Never blocks the loop.** Reading, parsing and chunking run in worker threads, a few at a
  time; the synchronous store runs in threads too.
* **Batches across files.** Chunks from several files share embedding requests up to the
  embedder's batch size, with at most ``embedding.concurrency`` requests in flight.
* **All-or-none, in batches.** A file is ready once all of its vectors are in. One writer
  task stores ready files with ``replace_files``: whenever it is free it takes every ready
  file (up to ``BATCH_FILES`` files / ``BATCH_CHUNKS`` chunks) and writes them with one
  insert and one commit, so batches grow exactly while the store is the slow stage. One
  writer, because Milvus Lite fails concurrent flushes ("current_seq is monotonic").
  A crash or a fatal error (bad key, store down) leaves every file either as it was or
  completely replaced. Fatal errors are raised (the CLI exits 2); skipped files are
  reported (exit 1).
* **Flushed at the end.** Rows are visible (and safe from a killed process) once inserted;
  flushing only makes searches over them fast (unflushed rows cost ~1 s per search at 10k)
  and is slow to repeat, so the writer flushes every ``FLUSH_CHUNKS`` chunks and once at
  the end, also when the ingest fails.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import EllipsisType
from typing import TYPE_CHECKING, Any

from chat_tui.config import Settings
from chat_tui.errors import ChatTuiError, EmbeddingError, IngestError
from chat_tui.ingest.chunking import chunk_document
from chat_tui.ingest.loaders import is_image, load_document, read_file_bytes
from chat_tui.ingest.report import IngestProgress, IngestReport, SkippedFile
from chat_tui.ingest.walk import is_under, walk_paths
from chat_tui.retrieval.types import Chunk, Embedder

if TYPE_CHECKING:
    from chat_tui.retrieval.milvus_store import KnowledgeStore

logger = logging.getLogger(__name__)

__all__ = ["IngestProgress", "IngestReport", "SkippedFile", "ingest_paths", "is_multimodal"]

#: Files read, parsed and chunked at once (threads; parsing holds the GIL, so a few suffice).
LOAD_CONCURRENCY = 4
#: Loaded files waiting for embedding, so a huge tree does not sit in memory at once.
QUEUED_FILES = 32
#: Files past loading but not yet stored (their chunks and vectors are in memory); the
#: store is usually the slowest stage, so this is what bounds memory. Room for about two
#: batches, so embedding goes on while a batch is written.
UNSTORED_FILES = 96
#: At most this many files / chunks go into one ``replace_files`` call.
BATCH_FILES = 48
BATCH_CHUNKS = 2000
#: Chunks written between flushes during a long ingest (there is always one at the end).
FLUSH_CHUNKS = 20_000
_MULTIMODAL_MODELS = ("jina-embeddings-v4", "jina-clip")


def is_multimodal(embedder: Embedder | None) -> bool:
    """Whether the embedder takes images (an explicit ``multimodal`` attribute wins)."""
    if embedder is None:
        return False
    flag = getattr(embedder, "multimodal", None)
    if isinstance(flag, bool):
        return flag
    return any(name in str(getattr(embedder, "model", "")) for name in _MULTIMODAL_MODELS)


@dataclass
class _FileJob:
    """A changed file on its way to the store."""

    source: str
    file_hash: str
    chunks: list[Chunk]
    is_new: bool
    vectors: list[list[float] | None] = field(default_factory=list)
    missing: int = 0


@dataclass
class _Outcome:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0


class _NoProgress:
    def started(self, total_files: int) -> None:
        pass

    def file_done(self, path: str, chunks: int) -> None:
        pass

    def file_skipped(self, path: str, reason: str) -> None:
        pass

    def chunks_embedded(self, n: int) -> None:
        pass


def _prepare(
    path: Path, stored_hash: str | None, settings: Settings, allow_images: bool
) -> tuple[str, list[Chunk] | None]:
    """(hash, chunks) for a changed file, (hash, None) for an unchanged one; runs in a thread.

    Raises:
        IngestError: the file is to be skipped.
    """
    if is_image(path) and not allow_images:
        raise IngestError("image (needs a multimodal embedder)")
    data = read_file_bytes(path, settings.ingest.max_file_mb)
    file_hash = hashlib.sha256(data).hexdigest()
    if file_hash == stored_hash:
        return file_hash, None
    document = load_document(path, data, allow_images=allow_images)
    source = str(path)
    chunks = chunk_document(
        document,
        source=source,
        file_hash=file_hash,
        chunk_tokens=settings.ingest.chunk_tokens,
        overlap=settings.ingest.chunk_overlap,
    )
    if not chunks:
        raise IngestError("empty")
    return file_hash, chunks


class _Run:
    """One ingest's moving parts: loaders feed a queue, the embedder drains it, a writer stores."""

    def __init__(
        self,
        settings: Settings,
        store: KnowledgeStore,
        embedder: Embedder | None,
        progress: IngestProgress,
        stored: dict[str, str],
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.progress = progress
        self.stored = stored
        self.outcome = _Outcome()
        self.allow_images = is_multimodal(embedder)
        self.batch_size = max(
            1, int(getattr(embedder, "batch_size", 0) or settings.embedding.batch_size)
        )
        self.embed_slots = asyncio.Semaphore(max(1, settings.embedding.concurrency))
        self.unstored = asyncio.Semaphore(UNSTORED_FILES)
        self.writes: set[asyncio.Future[None]] = set()
        # Hand-over to the writer: files whose vectors are all in, and whether more may come.
        self.ready: list[_FileJob] = []
        self.ready_changed = asyncio.Event()
        self.consuming = True
        self.embedding = 0
        self.unflushed = 0

    async def run(self, files: Sequence[Path]) -> None:
        queue: asyncio.Queue[_FileJob | None] = asyncio.Queue(QUEUED_FILES)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._produce(files, queue))
                group.create_task(self._consume(queue, group))
                group.create_task(self._write_batches())
        except BaseExceptionGroup as errors:
            raise _first_error(errors) from None
        finally:
            # A cancelled await leaves its thread running: let writes finish before closing.
            if self.writes:
                await asyncio.gather(*self.writes, return_exceptions=True)
            await self._flush()

    # ------------------------------------------------------------------ loading

    async def _produce(self, files: Sequence[Path], queue: asyncio.Queue[_FileJob | None]) -> None:
        slots = asyncio.Semaphore(LOAD_CONCURRENCY)

        async def load(path: Path) -> _FileJob | None:
            source = str(path)
            async with slots:
                try:
                    file_hash, chunks = await asyncio.to_thread(
                        _prepare, path, self.stored.get(source), self.settings, self.allow_images
                    )
                except IngestError as error:
                    self._skip(source, str(error))
                    return None
                except (ValueError, LookupError, RecursionError, MemoryError, OSError) as error:
                    # A parser tripping over one odd file must not stop a large ingest.
                    self._skip(source, f"parse failure ({type(error).__name__})")
                    return None
            if chunks is None:
                self.outcome.unchanged.append(source)
                self.progress.file_done(source, 0)
                return None
            job = _FileJob(source, file_hash, chunks, source not in self.stored)
            await queue.put(job)
            return job

        # Windows of tasks keep the number of pending coroutines small for huge trees.
        window = LOAD_CONCURRENCY * 8
        for start in range(0, len(files), window):
            await asyncio.gather(*(load(path) for path in files[start : start + window]))
        await queue.put(None)

    def _skip(self, source: str, reason: str) -> None:
        self.outcome.skipped.append(SkippedFile(source, reason))
        self.progress.file_skipped(source, reason)

    # ------------------------------------------------------------------ embedding

    async def _consume(
        self, queue: asyncio.Queue[_FileJob | None], group: asyncio.TaskGroup
    ) -> None:
        pending: list[tuple[_FileJob, int]] = []
        while (job := await queue.get()) is not None:
            if self.unstored.locked() and pending:
                # Waiting for a store slot with a part batch held back would never end.
                await self._dispatch(pending, group)
                pending = []
            await self.unstored.acquire()  # released once the file is stored
            if self.embedder is None:
                self._hand_over(job)
                continue
            job.vectors = [None] * len(job.chunks)
            job.missing = len(job.chunks)
            pending.extend((job, index) for index in range(len(job.chunks)))
            while len(pending) >= self.batch_size:
                batch, pending = pending[: self.batch_size], pending[self.batch_size :]
                await self._dispatch(batch, group)
        if pending:
            await self._dispatch(pending, group)
        self.consuming = False
        self.ready_changed.set()

    async def _dispatch(self, batch: list[tuple[_FileJob, int]], group: asyncio.TaskGroup) -> None:
        await self.embed_slots.acquire()  # back-pressure: wait for a free request slot
        self.embedding += 1
        group.create_task(self._embed(batch))

    async def _embed(self, batch: list[tuple[_FileJob, int]]) -> None:
        assert self.embedder is not None
        try:
            try:
                vectors = await self.embedder.embed_documents(
                    [job.chunks[index] for job, index in batch]
                )
            finally:
                self.embed_slots.release()
            if len(vectors) != len(batch):
                raise EmbeddingError(
                    f"the embedder returned {len(vectors)} vectors for {len(batch)} chunks"
                )
            self.outcome.embedded += len(batch)
            self.progress.chunks_embedded(len(batch))
            for (job, index), vector in zip(batch, vectors, strict=True):
                job.vectors[index] = vector
                job.missing -= 1
                if job.missing == 0:
                    self._hand_over(job)
        finally:
            self.embedding -= 1
            self.ready_changed.set()

    # ------------------------------------------------------------------ storing

    def _hand_over(self, job: _FileJob) -> None:
        self.ready.append(job)
        self.ready_changed.set()

    def _take_batch(self) -> list[_FileJob]:
        """The oldest ready files, up to ``BATCH_FILES`` files and ``BATCH_CHUNKS`` chunks."""
        taken = 1
        chunks = len(self.ready[0].chunks)
        while taken < min(len(self.ready), BATCH_FILES):
            chunks += len(self.ready[taken].chunks)
            if chunks > BATCH_CHUNKS:
                break
            taken += 1
        batch, self.ready = self.ready[:taken], self.ready[taken:]
        return batch

    async def _write_batches(self) -> None:
        """The one writer: stores ready files batch by batch until no more can come."""
        while True:
            while not self.ready:
                if not self.consuming and self.embedding == 0:
                    return
                self.ready_changed.clear()
                await self.ready_changed.wait()
            await self._store(self._take_batch())
            if self.unflushed >= FLUSH_CHUNKS:
                await self._flush()

    async def _store(self, batch: list[_FileJob]) -> None:
        items = [
            (
                job.source,
                job.file_hash,
                job.chunks,
                None if self.embedder is None else [v for v in job.vectors if v is not None],
            )
            for job in batch
        ]
        write = asyncio.ensure_future(
            asyncio.to_thread(self.store.replace_files, items, flush=False)
        )
        self.writes.add(write)
        write.add_done_callback(self.writes.discard)
        try:
            await asyncio.shield(write)
        finally:
            for _ in batch:
                self.unstored.release()
        for job in batch:
            self.outcome.chunks += len(job.chunks)
            self.unflushed += len(job.chunks)
            (self.outcome.added if job.is_new else self.outcome.updated).append(job.source)
            job.vectors = []
            self.progress.file_done(job.source, len(job.chunks))

    async def _flush(self) -> None:
        """Flush what was written since the last flush (searches over unflushed rows are slow)."""
        if not self.unflushed:
            return
        self.unflushed = 0
        try:
            await asyncio.to_thread(self.store.flush)
        except ChatTuiError as error:  # the rows are stored; only searches are slower
            logger.warning("flushing the knowledge base failed: %s", error)


def _first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    """The error to show from a task group: a chat-tui error if there is one."""
    leaves: list[BaseException] = []

    def collect(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                collect(inner)
        else:
            leaves.append(error)

    collect(group)
    for error in leaves:
        if isinstance(error, ChatTuiError):
            return error
    for error in leaves:
        if not isinstance(error, asyncio.CancelledError):
            return error
    return leaves[0]


def _default_embedder(settings: Settings) -> Embedder | None:
    from chat_tui.retrieval.openai_embed import make_embedder

    return make_embedder(settings.embedding)


async def ingest_paths(
    paths: Sequence[Path],
    *,
    settings: Settings,
    knowledge_base: str = "default",
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    prune: bool = False,
    progress: IngestProgress | None = None,
    store: KnowledgeStore | None = None,
    embedder: Embedder | None | EllipsisType = ...,
) -> IngestReport:
    """Ingest files and folders into a knowledge base.

    Args:
        paths: files and folders (walked as ``chat_tui.ingest.walk.walk_paths`` says).
        settings: the settings (``ingest.*``, ``embedding.*``, ``milvus.*``).
        knowledge_base: the knowledge base to write to (created if missing).
        include: globs walked files must match.
        exclude: globs that drop walked files and folders.
        prune: also remove stored files under ``paths`` that the walk no longer finds.
        progress: callbacks for a progress display.
        store: the store to use (default: a ``KnowledgeStore`` for ``knowledge_base``,
            closed at the end; a given store is left open).
        embedder: the embedder; ``...`` (default) builds one from ``settings.embedding``
            (and closes it at the end); None stores chunks for BM25 search only.

    Returns:
        What was added, updated, unchanged, skipped (with reasons) and removed.

    Raises:
        EmbeddingError: the embedder refused (bad key, no balance, outage).
        RetrievalError: the store is unavailable or refused a write.
    """
    began = time.monotonic()
    roots = [Path(path).expanduser().resolve() for path in paths]
    shown: IngestProgress = progress if progress is not None else _NoProgress()
    own_embedder = isinstance(embedder, EllipsisType)
    active: Embedder | None = (
        _default_embedder(settings) if isinstance(embedder, EllipsisType) else embedder
    )
    own_store = store is None
    try:
        if store is None:
            from chat_tui.retrieval.milvus_store import KnowledgeStore

            dimensions: int | None = None
            if active is not None:
                # OpenAI-compatible servers report their real size only when asked (one tiny
                # request, which also surfaces a bad key before any work is done).
                detect = getattr(active, "detect_dimensions", None)
                dimensions = int(await detect()) if detect is not None else active.dimensions
            store = KnowledgeStore(settings, knowledge_base, dense_dim=dimensions)
        files = await asyncio.to_thread(walk_paths, roots, include=include, exclude=exclude)
        shown.started(len(files))
        await asyncio.to_thread(store.ensure)
        stored = await asyncio.to_thread(store.file_hashes)
        run = _Run(settings, store, active, shown, stored)
        await run.run(files)
        removed: list[str] = []
        if prune:
            present = {str(path) for path in files}
            for source in sorted(stored):
                if source not in present and is_under(source, roots):
                    await asyncio.to_thread(store.remove_file, source)
                    removed.append(source)
    finally:
        if own_embedder and active is not None:
            await active.aclose()
        if own_store and store is not None:
            await asyncio.to_thread(store.close)
    outcome = run.outcome
    return IngestReport(
        knowledge_base=knowledge_base,
        added=tuple(sorted(outcome.added)),
        updated=tuple(sorted(outcome.updated)),
        unchanged=tuple(sorted(outcome.unchanged)),
        skipped=tuple(sorted(outcome.skipped, key=lambda skip: skip.path)),
        removed=tuple(removed),
        chunks=outcome.chunks,
        embedded=outcome.embedded,
        dense=active is not None,
        elapsed=time.monotonic() - began,
    )
