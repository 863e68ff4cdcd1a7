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
* **One bad file is not fatal.** When the embedder refuses a batch as bad input (400),
  its files are tried one at a time and a file still refused is skipped with the reason;
  a bad key, no balance or an outage that outlasts the retries stays fatal.
* **Copies are not embedded.** A chunk whose passage (``chunk_key.dedup_key``) another
  committed file stores, or an earlier file of this run embeds, gets no vector: the
  store records it as a copy (``milvus_copies``). The store decides under its lock; if
  a chunk sent without a vector must be stored after all (the file holding the passage
  was refused or removed meanwhile), the write raises ``MissingVectors`` and the writer
  embeds those chunks and writes again.
* **Flushed at the end.** Rows are visible (and safe from a killed process) once inserted;
  flushing only makes searches over them fast (unflushed rows cost ~1 s per search at 10k)
  and is slow to repeat, so the writer flushes every ``FLUSH_CHUNKS`` chunks and once at
  the end, also when the ingest fails (not when it is interrupted: Ctrl+C exits at once).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chat_tui.config import Settings
from chat_tui.domain.defaults import DEFAULT, Default
from chat_tui.errors import ChatTuiError, EmbeddingError, IngestError
from chat_tui.ingest.chunking import chunk_document
from chat_tui.ingest.knowledge_target import open_store, probe_embedder
from chat_tui.ingest.loaders import is_image, load_document, read_file_bytes
from chat_tui.ingest.report import (
    FileRefused,
    IngestProgress,
    IngestReport,
    NoProgress,
    SkippedFile,
)
from chat_tui.ingest.walk import is_gone, is_under, walk
from chat_tui.retrieval.chunk_key import dedup_key
from chat_tui.retrieval.milvus_copies import MissingVectors
from chat_tui.retrieval.types import Chunk, Embedder

if TYPE_CHECKING:
    from chat_tui.retrieval.milvus_store import FileWrite, KnowledgeStore

logger = logging.getLogger(__name__)

__all__ = [
    "IngestProgress",
    "IngestReport",
    "SkippedFile",
    "ingest_paths",
    "is_multimodal",
    "probe_embedder",
]

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


def is_multimodal(embedder: Embedder | None) -> bool:
    """Whether the embedder takes images (so image files are loaded, not refused)."""
    return embedder is not None and embedder.multimodal


@dataclass
class _FileJob:
    """A changed file on its way to the store."""

    source: str
    file_hash: str
    chunks: list[Chunk]
    is_new: bool
    vectors: list[list[float] | None] = field(default_factory=list)
    missing: int = 0
    #: The embedder refused the file (400): it is skipped, never stored.
    failed: bool = False


@dataclass
class _Outcome:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0


def _prepare(
    path: Path,
    stored_hash: str | None,
    settings: Settings,
    allow_images: bool,
    root: str = "",
) -> tuple[str, list[Chunk] | None]:
    """(hash, chunks) for a changed file, (hash, None) for an unchanged one; runs in a thread.

    Raises:
        IngestError: the file is to be skipped.
    """
    if is_image(path) and not allow_images:
        raise FileRefused("image (needs a multimodal embedder)")
    data = read_file_bytes(path, settings.ingest.max_file_mb)
    file_hash = hashlib.sha256(data).hexdigest()
    if file_hash == stored_hash:
        return file_hash, None
    document = load_document(
        path, data, allow_images=allow_images, max_file_mb=settings.ingest.max_file_mb
    )
    source = str(path)
    chunks = chunk_document(
        document,
        source=source,
        file_hash=file_hash,
        chunk_tokens=settings.ingest.chunk_tokens,
        overlap=settings.ingest.chunk_overlap,
        root=root,
    )
    if not chunks:
        raise FileRefused("empty")
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
        roots: Sequence[Path] = (),
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.progress = progress
        self.stored = stored
        self.outcome = _Outcome()
        self.roots = roots
        self.allow_images = is_multimodal(embedder)
        self.batch_size = max(
            1, embedder.batch_size if embedder is not None else settings.embedding.batch_size
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
        #: Passage keys a file of this run embeds (its copies elsewhere need no vector).
        self.embedded_keys: set[str] = set()
        #: Whether the store keeps passages once (a KB made before that stores copies).
        self.stores_once = False  # asked in run(): it may reach the store

    async def run(self, files: Sequence[Path]) -> None:
        queue: asyncio.Queue[_FileJob | None] = asyncio.Queue(QUEUED_FILES)
        if self.embedder is not None and files:
            self.stores_once = await asyncio.to_thread(lambda: self.store.stores_once)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._produce(files, queue))
                group.create_task(self._consume(queue, group))
                group.create_task(self._write_batches())
        except BaseExceptionGroup as errors:
            raise _first_error(errors) from None
        except asyncio.CancelledError:
            # Ctrl+C: exit at once. Skipping the flush costs only search speed until the
            # next ingest flushes; what is stored is stored either way.
            self.unflushed = 0
            raise
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
                        _prepare,
                        path,
                        self.stored.get(source),
                        self.settings,
                        self.allow_images,
                        root_of(path, self.roots),
                    )
                except FileRefused as error:
                    self._skip(source, str(error))
                    return None
                except IngestError as error:
                    self._skip(source, str(error), failed=True)
                    return None
                except (ValueError, LookupError, RecursionError, MemoryError, OSError) as error:
                    # A parser tripping over one odd file must not stop a large ingest.
                    self._skip(source, f"parse failure ({type(error).__name__})", failed=True)
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

    def _skip(self, source: str, reason: str, *, failed: bool = False) -> None:
        self.outcome.skipped.append(SkippedFile(source, reason, failed))
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
            wanted = await self._to_embed(job)
            job.missing = len(wanted)
            if not wanted:
                self._hand_over(job)
                continue
            pending.extend((job, index) for index in wanted)
            while len(pending) >= self.batch_size:
                batch, pending = pending[: self.batch_size], pending[self.batch_size :]
                await self._dispatch(batch, group)
        if pending:
            await self._dispatch(pending, group)
        self.consuming = False
        self.ready_changed.set()

    async def _to_embed(self, job: _FileJob) -> list[int]:
        """Positions of the job's chunks to embed: not copies of a passage embedded elsewhere."""
        if not self.stores_once:
            return list(range(len(job.chunks)))
        keys = [dedup_key(chunk.text) for chunk in job.chunks]
        stored = await asyncio.to_thread(self.store.stored_keys, set(keys), job.source)
        wanted: list[int] = []
        for index, key in enumerate(keys):
            if key in stored or key in self.embedded_keys:
                continue
            self.embedded_keys.add(key)
            wanted.append(index)
        return wanted

    async def _dispatch(self, batch: list[tuple[_FileJob, int]], group: asyncio.TaskGroup) -> None:
        await self.embed_slots.acquire()  # back-pressure: wait for a free request slot
        self.embedding += 1
        group.create_task(self._embed(batch))

    async def _embed(self, batch: list[tuple[_FileJob, int]]) -> None:
        try:
            try:
                live = [(job, index) for job, index in batch if not job.failed]
                results = await self._embed_batch(live)
            finally:
                self.embed_slots.release()
            self.outcome.embedded += len(results)
            self.progress.chunks_embedded(len(results))
            for job, index, vector in results:
                if job.failed:  # another batch of the file was refused meanwhile
                    continue
                job.vectors[index] = vector
                job.missing -= 1
                if job.missing == 0:
                    self._hand_over(job)
        finally:
            self.embedding -= 1
            self.ready_changed.set()

    async def _embed_batch(
        self, batch: list[tuple[_FileJob, int]]
    ) -> list[tuple[_FileJob, int, list[float]]]:
        """Vectors for a batch; when the embedder refuses it as bad input (400), file by file.

        One file the service cannot embed must not stop a large ingest: its files are
        tried one at a time, and a file still refused is skipped with the reason. Any
        other failure (bad key, no balance, rate limit or outage after the retries) is
        fatal and raised.
        """
        if not batch:
            return []
        try:
            return await self._vectors(batch)
        except EmbeddingError as error:
            if error.status != 400:
                raise
            refused = error
        by_file: dict[int, list[tuple[_FileJob, int]]] = {}
        for job, index in batch:
            by_file.setdefault(id(job), []).append((job, index))
        if len(by_file) == 1:  # the same request again would be refused again
            self._fail(batch[0][0], refused)
            return []
        results: list[tuple[_FileJob, int, list[float]]] = []
        refusals: list[tuple[_FileJob, EmbeddingError]] = []
        for entries in by_file.values():
            job = entries[0][0]
            if job.failed:
                continue
            try:
                results.extend(await self._vectors(entries))
            except EmbeddingError as error:
                if error.status != 400:
                    raise
                refusals.append((job, error))
        if refusals and not results:
            # Every file refused on its own: the request itself is wrong (model, dimensions),
            # not one file's content. Fatal, rather than skipping the whole tree file by file.
            raise refused
        for job, reason in refusals:
            self._fail(job, reason)
        return results

    async def _vectors(
        self, entries: list[tuple[_FileJob, int]]
    ) -> list[tuple[_FileJob, int, list[float]]]:
        assert self.embedder is not None
        vectors = await self.embedder.embed_documents([job.chunks[i] for job, i in entries])
        if len(vectors) != len(entries):
            raise EmbeddingError(
                f"the embedder returned {len(vectors)} vectors for {len(entries)} chunks"
            )
        return [(job, index, vector) for (job, index), vector in zip(entries, vectors, strict=True)]

    def _fail(self, job: _FileJob, error: EmbeddingError) -> None:
        """Skip a file the embedder refused; it never reaches the store."""
        if job.failed:
            return
        job.failed = True
        job.vectors = []
        self._skip(job.source, str(error), failed=True)
        self.unstored.release()  # it will never be stored

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
        try:
            for _ in range(3):
                try:
                    await self._write(batch)
                    break
                except MissingVectors as missing:
                    await self._embed_missing(batch, missing.needed)
            else:
                await self._write(batch)
        finally:
            for _ in batch:
                self.unstored.release()
        for job in batch:
            self.outcome.chunks += len(job.chunks)
            self.unflushed += len(job.chunks)
            (self.outcome.added if job.is_new else self.outcome.updated).append(job.source)
            job.vectors = []
            self.progress.file_done(job.source, len(job.chunks))

    async def _write(self, batch: list[_FileJob]) -> None:
        items: list[FileWrite] = [
            (job.source, job.file_hash, job.chunks, None if self.embedder is None else job.vectors)
            for job in batch
        ]
        write = asyncio.ensure_future(
            asyncio.to_thread(self.store.replace_files, items, flush=False)
        )
        self.writes.add(write)
        write.add_done_callback(self.writes.discard)
        await asyncio.shield(write)

    async def _embed_missing(self, batch: list[_FileJob], needed: list[tuple[int, int]]) -> None:
        """Embed the chunks a write needs after all (expected copies whose passage went)."""
        entries: list[tuple[_FileJob, int]] = []
        for file_index, chunk_index in needed:
            job = batch[file_index]
            position = next(i for i, c in enumerate(job.chunks) if c.index == chunk_index)
            entries.append((job, position))
        for start in range(0, len(entries), self.batch_size):
            part = entries[start : start + self.batch_size]
            async with self.embed_slots:
                results = await self._vectors(part)
            for job, index, vector in results:
                job.vectors[index] = vector
            self.outcome.embedded += len(results)
            self.progress.chunks_embedded(len(results))

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


def _roots(paths: Sequence[Path]) -> list[Path]:
    """The given paths resolved (a link loop stays as given: it holds nothing to prune)."""
    roots: list[Path] = []
    for path in paths:
        try:
            roots.append(Path(path).expanduser().resolve())
        except (OSError, RuntimeError):
            roots.append(Path(os.path.abspath(Path(path).expanduser())))
    return roots


def root_of(path: Path, roots: Sequence[Path]) -> str:
    """The ingested folder ``path`` was found under (its parent when it was named itself).

    Sources are shown relative to it; the deepest matching folder wins. A file reached
    through a link out of every root gets its parent.
    """
    best: Path | None = None
    for root in roots:
        if root == path:
            return str(path.parent)
        if path.is_relative_to(root) and (best is None or len(root.parts) > len(best.parts)):
            best = root
    return str(best if best is not None else path.parent)


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
    rebuild: bool = False,
    follow_links: bool = False,
    progress: IngestProgress | None = None,
    store: KnowledgeStore | None = None,
    embedder: Embedder | None | Default = DEFAULT,
) -> IngestReport:
    """Ingest files and folders into a knowledge base.

    Args:
        paths: files and folders (walked as ``chat_tui.ingest.walk.walk_paths`` says); with
            ``prune``, paths that no longer exist are allowed (their stored files are pruned).
        settings: the settings (``ingest.*``, ``embedding.*``, ``milvus.*``).
        knowledge_base: the knowledge base to write to (created if missing).
        include: globs walked files must match.
        exclude: globs that drop walked files and folders.
        prune: also remove stored files under ``paths`` that no longer exist on disk (files
            that exist but were filtered out by ``include``/``exclude``/``.gitignore`` stay).
        follow_links: follow symbolic links out of ``paths`` (by default such links are
            skipped with a reason; links inside ``paths`` are always followed).
        rebuild: drop the knowledge base and ingest everything again; it is dropped only
            after the embedder answered a probe and the store was reached, so a bad key or
            an outage loses nothing.
        progress: callbacks for a progress display.
        store: the store to use (default: a ``KnowledgeStore`` for ``knowledge_base``,
            closed at the end; a given store is left open).
        embedder: the embedder; ``DEFAULT`` (left out) builds one from ``settings.embedding``
            (and closes it at the end); None stores chunks for BM25 search only.

    Returns:
        What was added, updated, unchanged, skipped (with reasons) and removed.

    Raises:
        EmbeddingError: the embedder refused (bad key, no balance, outage).
        RetrievalError: the store is unavailable or refused a write.
    """
    began = time.monotonic()
    roots = _roots(paths)
    shown: IngestProgress = progress if progress is not None else NoProgress()
    own_embedder = embedder is DEFAULT
    active = _default_embedder(settings) if embedder is DEFAULT else embedder
    own_store = store is None
    try:
        walked = await asyncio.to_thread(
            walk,
            [Path(path) for path in paths],
            include=include,
            exclude=exclude,
            follow_links=follow_links,
            default_excludes=settings.ingest.default_excludes,
        )
        files = walked.files
        if rebuild and not files:
            raise IngestError(
                "--rebuild found no files to ingest (check the paths and --include/--exclude);"
                " the knowledge base was left as it was"
            )
        if store is None:
            store = await open_store(settings, knowledge_base, active, rebuild)
        elif rebuild and active is not None:
            await probe_embedder(active)
        if rebuild:
            await asyncio.to_thread(store.exists)  # the store answers (raises if not)
            await asyncio.to_thread(store.drop)
        shown.started(len(files) + len(walked.skipped))
        if files or rebuild or await asyncio.to_thread(store.exists):
            await asyncio.to_thread(store.ensure)
        stored = await asyncio.to_thread(store.file_hashes)
        run = _Run(settings, store, active, shown, stored, roots)
        for skipped in walked.skipped:
            run._skip(skipped.path, skipped.reason)
        await run.run(files)
        removed: list[str] = []
        if prune:
            for source in sorted(stored):
                if is_under(source, roots) and is_gone(source):
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
        generated=tuple(sorted(walked.generated.items())),
    )
