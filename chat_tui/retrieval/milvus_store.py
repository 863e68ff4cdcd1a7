"""One knowledge base in Milvus: its chunks, a registry of complete files, and searches.

Why it exists: ingest and retrieval both need one place that knows the schema,
keeps files all-or-none, and turns Milvus hits into ``Passage`` values. The API
is synchronous (pymilvus is); async callers run it with ``asyncio.to_thread``.
Nothing is imported or connected until first use. The store *holds* its collaborators:
a :class:`~chat_tui.retrieval.milvus_connection.MilvusConnection` (every request, the
reconnects), a :class:`~chat_tui.retrieval.milvus_registry.Registry` (the file rows and
the writers' lock), the search requests of :mod:`~chat_tui.retrieval.milvus_search`,
the rows of :mod:`~chat_tui.retrieval.milvus_rows` and the copies of
:mod:`~chat_tui.retrieval.milvus_copies`; this module is the all-or-none protocol
that ties them together.

Layout per knowledge base ``kb`` (``prefix`` = ``milvus.collection_prefix``):

* ``{prefix}_kb_{name}`` holds the chunks: ``id`` (pk, ``<chunk id>:<version>``),
  ``source``, ``file_hash``, ``version``, ``heading``, ``text`` (analyzed),
  ``line_start``/``line_end``/``page``/``idx`` (-1 for None), ``sparse`` (BM25
  function output) and, when the KB was created with a known dimension,
  ``dense`` (HNSW, COSINE). A KB created without dense vectors stays BM25-only:
  vectors given later are ignored, and ``re-ingest with --rebuild`` adds them.
* ``{prefix}_dups_{name}`` holds the copies: a chunk whose passage (``key``) is
  already stored by a committed file or an earlier chunk of the same write is a row
  here, under its own file's version (see :mod:`~chat_tui.retrieval.milvus_copies`).
* ``{prefix}_files_{name}`` is the registry: one ``f:<sha256 of source>`` row per
  file stored completely (source, hash, version, chunk count), plus
  ``pending:<version>`` rows while a file is being written.

No data in expressions: Milvus Lite 3.2.2 has no filter templates (``filter_params``
is ignored there), and pymilvus pastes ids into ``key in ['...']`` unescaped. So every
key and filter sent is built from a safe alphabet (see
:mod:`~chat_tui.retrieval.milvus_registry`): a file named ``x'] or key not in ['.md``
is just a name.

``name`` is the KB name with everything except ASCII letters and digits written
as ``_<hex>_`` (reversible, so ``list_knowledge_bases`` returns real names).

Writers of one KB are serialised by a lock file in ``knowledge_dir`` (``write_lock``).

All-or-none: ``replace_files`` (``replace_file`` for one file) writes ``pending``
markers, inserts the new rows under a fresh ``version`` per file, upserts the
files' registry rows in one request (the commit point of the whole batch), and
only then deletes the old versions. Searches keep only hits whose ``(source,
version)`` is the registered one, so a process killed at any instant leaves each
file either fully present (old or new version) or absent. Every row's version is
the registered one of its file or named by a pending marker (the version being
written, and the one being superseded): leftovers of a killed writer are deleted,
by version, by the next write of that file and by ``ensure()`` (markers whose
writer process is gone), and new files need no delete at all.

Flushing: inserted rows are visible to queries and searches at once and survive a
killed client or server, so the commit doesn't wait for a flush; writers call
``flush()`` after a batch or an ingest so the database on disk is final when the
ingest exits.

Analyzer: ``jieba`` (built into Milvus 2.5) with spaces and punctuation dropped:
it splits Chinese into words and English on spaces and punctuation, lower-cased,
so one KB serves both (see ``milvus_schema.ANALYZERS`` for the others and the
measurements). If the server lacks jieba the KB falls back to the ``english``
analyzer and ``stats`` says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chat_tui.errors import RetrievalError
from chat_tui.retrieval import milvus_search
from chat_tui.retrieval.fusion import DEFAULT_DENSE_WEIGHT, DEFAULT_RRF_K, fuse
from chat_tui.retrieval.milvus_columns import ColumnInserter
from chat_tui.retrieval.milvus_connection import MilvusConnection
from chat_tui.retrieval.milvus_dedup import Copies
from chat_tui.retrieval.milvus_registry import (
    WRITE_LOCK_SECONDS,
    Registry,
    file_key,
    upgrade_legacy_keys,
    write_lock,
)
from chat_tui.retrieval.milvus_rows import FileWrite, Layout, check_write
from chat_tui.retrieval.milvus_schema import (
    LOCATION_FIELDS,
    SEARCH_TEXT_FIELD,
    create_chunks_collection,
    create_registry_collection,
    decode_name,
    encode_name,
    read_schema,
    scrub_uri,
    truncate_utf8,
)
from chat_tui.retrieval.milvus_writes import FileWriter
from chat_tui.retrieval.types import Chunk, Passage

if TYPE_CHECKING:
    from chat_tui.config import Settings

#: Row bytes per insert request: far below the 256 MB gRPC limit of Milvus (Lite and
#: standalone), and small enough that one request never holds the server for long.
INSERT_REQUEST_BYTES = 16 * 1024 * 1024


class KnowledgeStore:
    """One knowledge base: chunks + registry in Milvus (see the module docstring).

    Args:
        settings: the settings (``milvus.*`` and ``knowledge_dir``).
        knowledge_base: the KB name.
        dense_dim: the embedder's dimension, used when ``ensure()`` creates the KB;
            None creates a BM25-only KB.
    """

    def __init__(
        self, settings: Settings, knowledge_base: str = "default", *, dense_dim: int | None = None
    ) -> None:
        self.settings = settings
        self.knowledge_base = knowledge_base
        self._requested_dim = dense_dim
        prefix = settings.milvus.collection_prefix
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", prefix):
            raise RetrievalError(
                f"milvus.collection_prefix {prefix!r} must be letters, digits and underscores"
            )
        encoded = encode_name(knowledge_base)
        self.collection = f"{prefix}_kb_{encoded}"
        self.registry = f"{prefix}_files_{encoded}"
        self.copies = f"{prefix}_dups_{encoded}"
        if len(self.registry) > 255:
            raise RetrievalError(f"knowledge base name {knowledge_base!r} is too long")
        self.connection = MilvusConnection(settings, knowledge_base, reload=self._open)
        self._files = Registry(self.connection, self.registry)
        #: The connection generation the collections were loaded on (None: not loaded).
        self._loaded_on: int | None = None
        self._layout = Layout()
        self._analyzer = ""
        self._copies = Copies(self.connection, self._files, self.collection, self.copies)
        self._writer = FileWriter(self.connection, self._files, self._copies, self.collection)

    # ------------------------------------------------------------------ schema

    @classmethod
    def list_knowledge_bases(cls, settings: Settings) -> list[str]:
        """Names of the knowledge bases that exist, sorted."""
        store = cls(settings)
        if store.connection.local_db_missing():
            return []
        try:
            names = store.connection.call("listing", lambda c: c.list_collections())
        finally:
            store.close()
        marker = f"{settings.milvus.collection_prefix}_kb_"
        return sorted(decode_name(n[len(marker) :]) for n in names if n.startswith(marker))

    def exists(self) -> bool:
        """Whether this KB's collection exists (never starts a server for an empty data dir)."""
        if self.connection.local_db_missing():
            return False
        return bool(self.connection.call("checking", lambda c: c.has_collection(self.collection)))

    @property
    def dense_dim(self) -> int | None:
        """The KB's dense dimension, or None for BM25-only (known after ``ensure``/a search)."""
        self._open()
        return self._layout.dense_dim

    def _open(self, create: bool = False) -> bool:
        """Load both collections (creating them when ``create``); False if the KB doesn't exist."""
        if self._loaded_on == self.connection.generation and self.connection.connected:
            return True

        def run(client: Any) -> bool:
            has_chunks = client.has_collection(self.collection)
            if not has_chunks and not create:
                return False
            if not has_chunks:
                create_chunks_collection(
                    client,
                    self.collection,
                    self._requested_dim,
                    self.settings.retrieval.analyzer,
                )
            if not client.has_collection(self.registry):
                create_registry_collection(client, self.registry)
            client.load_collection(self.collection)
            client.load_collection(self.registry)
            dense_dim, self._analyzer, fields = read_schema(client, self.collection)
            self._layout = Layout(
                dense_dim,
                tuple(f for f in LOCATION_FIELDS if f in fields),
                search_text=SEARCH_TEXT_FIELD in fields,
            )
            upgrade_legacy_keys(client, self.registry)
            return True

        if create:
            # Two ingests creating one KB at once: the second must find it, not fail.
            with self._write_lock():
                opened = self.connection.call("opening", run)
        else:
            opened = self.connection.call("opening", run)
        self._loaded_on = self.connection.generation if opened else None
        return opened

    def ensure(self) -> None:
        """Create the KB if missing, load it, and clean up after writers that were killed.

        Raises:
            RetrievalError: Milvus failed, or the KB stores vectors of another dimension.
        """
        self._open(create=True)
        stored_dim = self._layout.dense_dim
        if self._requested_dim and stored_dim and self._requested_dim != stored_dim:
            raise RetrievalError(
                f"knowledge base {self.knowledge_base!r} stores {stored_dim}-dimensional "
                f"vectors but the "
                f"embedder gives {self._requested_dim}; re-ingest with --rebuild"
            )
        with self._write_lock():
            self._writer.clean_pending(None, layout=self._layout)

    def _need_open(self) -> None:
        if not self._open():
            raise RetrievalError(
                f"knowledge base {self.knowledge_base!r} does not exist (run chat-tui ingest)"
            )

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Serialise writers of this KB across processes (see the module docstring)."""
        with write_lock(self.settings.knowledge_dir, self.registry, self.knowledge_base):
            yield

    # ------------------------------------------------------------------ searches

    def _passages(self, hits: Sequence[Any], limit: int, *, bm25: bool = False) -> list[Passage]:
        return milvus_search.passages(
            hits,
            limit,
            knowledge_base=self.knowledge_base,
            committed=self._files.committed,
            copy_sources=self.copy_sources,
            bm25=bm25,
        )

    def search_bm25(self, query: str, limit: int) -> list[Passage]:
        """Full-text (BM25) search; [] when the KB doesn't exist or the query is blank."""
        if not query.strip() or not self._open():
            return []
        hits = milvus_search.bm25_hits(
            self.connection, self.collection, query, limit, self._layout.fields()
        )
        return self._passages(hits, limit, bm25=True)

    def search_dense(self, vector: Sequence[float], limit: int) -> list[Passage]:
        """Vector search; [] when the KB doesn't exist or has no dense vectors."""
        if not self._open() or not self._layout.dense_dim:
            return []
        hits = milvus_search.dense_hits(
            self.connection, self.collection, vector, limit, self._layout.fields()
        )
        return self._passages(hits, limit)

    def search_hybrid(
        self,
        query: str,
        vector: Sequence[float],
        limit: int,
        candidates: int = 20,
        *,
        fusion: str = "weighted",
        rrf_k: int = DEFAULT_RRF_K,
        dense_weight: float = DEFAULT_DENSE_WEIGHT,
    ) -> list[Passage]:
        """BM25 + dense, fused on our side (``fusion.fuse``); BM25 only without vectors."""
        if not self._open():
            return []
        if not self._layout.dense_dim:
            return self.search_bm25(query, limit)
        if not query.strip():
            return self.search_dense(vector, limit)
        pool = max(candidates, limit)
        lexical = self.search_bm25(query, pool)
        dense = self.search_dense(vector, pool)
        return fuse(lexical, dense, limit, method=fusion, k=rrf_k, dense_weight=dense_weight)

    # ------------------------------------------------------------------ registry

    def file_hashes(self) -> dict[str, str]:
        """``source -> file_hash`` of the files stored completely."""
        if not self.exists():
            return {}
        self._need_open()
        return {str(r["source"]): str(r["file_hash"]) for r in self._files.rows("file")}

    def sources(self) -> list[tuple[str, str, int]]:
        """``(source, file_hash, chunk_count)`` of the stored files, sorted by source."""
        if not self.exists():
            return []
        self._need_open()
        rows = self._files.rows("file")
        return sorted((str(r["source"]), str(r["file_hash"]), int(r["chunk_count"])) for r in rows)

    # ------------------------------------------------------------------ copies

    @property
    def stores_once(self) -> bool:
        """Whether this KB stores each passage once (made before that: it stores copies)."""
        return self._open() and self._layout.dedup

    def stored_keys(self, keys: Iterable[str], other_than: str = "") -> set[str]:
        """The passage ``keys`` stored by committed files other than ``other_than``.

        What an ingest need not embed: such chunks will be copies (unless the file that
        stores them goes before the write, which ``MissingVectors`` reports).
        """
        if not self._open() or not self._layout.dedup:
            return set()
        leaving = list(self._files.committed([other_than]).values()) if other_than else []
        return self._copies.stored_keys(keys, leaving)

    def copy_sources(self, keys: Sequence[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
        """``key -> other committed sources`` of the passages ``(key, source)`` (search hits)."""
        return self._copies.sources(keys) if self._layout.dedup else {}

    # ------------------------------------------------------------------ writes

    def replace_file(
        self,
        source: str,
        file_hash: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]] | None,
    ) -> None:
        """Store ``chunks`` as the new content of ``source``, all-or-none (see module docstring).

        Args:
            source: the file path, as in ``Chunk.source``.
            file_hash: the file's content hash.
            chunks: all chunks of the file (may be empty).
            vectors: one dense vector per chunk, or None for a BM25-only KB
                (ignored when the KB has no dense field).

        Raises:
            RetrievalError: bad arguments, or Milvus failed (the old version stays).
        """
        self.replace_files([(source, file_hash, chunks, vectors)])

    def replace_files(self, items: Sequence[FileWrite], *, flush: bool = True) -> None:
        """Store several files at once, each all-or-none (see the module docstring).

        One pending-marker upsert, one insert per ~16 MB of rows, one registry upsert (the
        commit point of every file in ``items``), one delete of old versions (none for new
        files), at most one flush. A kill before the commit leaves every file at its old
        version (or absent); after it, every file at its new one.

        Args:
            items: ``(source, file_hash, chunks, vectors)`` per file, as for ``replace_file``;
                each source at most once.
            flush: flush at the end, so searches over the new rows are fast; a caller
                storing many batches passes False and calls ``flush()`` once at the end.
                Visibility and all-or-none don't depend on it.

        Raises:
            RetrievalError: bad arguments, or Milvus failed (every file keeps its old version).
        """
        if not items:
            return
        sources = [source for source, _, _, _ in items]
        if len(set(sources)) != len(sources):
            raise RetrievalError("the same file was given twice in one write")
        self._open(create=True)
        for item in items:
            check_write(item, knowledge_base=self.knowledge_base, dense_dim=self._layout.dense_dim)
        with self._write_lock():
            written = self._writer.replace(
                items, sources, layout=self._layout, request_bytes=INSERT_REQUEST_BYTES
            )
            if flush and written:
                self.flush()

    def flush(self) -> None:
        """Persist the rows written so far into segments, where searches over them are fast."""
        if self._open():
            self.connection.call("flushing", lambda c: c.flush(self.collection))

    def remove_file(self, source: str) -> int:
        """Remove a file's chunks; returns how many rows were removed (0 if unknown)."""
        if not self.exists():
            return 0
        self._need_open()
        count = self._files.chunk_count(source)
        with self._write_lock():
            self._writer.remove(source, layout=self._layout)
        return count

    def drop(self) -> None:
        """Delete the whole knowledge base."""

        def run(client: Any) -> None:
            for name in (self.collection, self.registry, self.copies):
                if client.has_collection(name):
                    client.drop_collection(name)

        self.connection.call("dropping", run)
        self._loaded_on = None
        self._copies.forget()
        self._writer.inserter.close()  # its ORM collection knew the dropped schema

    # ------------------------------------------------------------------ misc

    def stats(self) -> dict[str, object]:
        """Chunks, files, dense dimension, analyzer, collection and uri (never the token)."""
        self._need_open()
        files = self._files.rows("file")
        return {
            "knowledge_base": self.knowledge_base,
            "chunks": sum(int(r["chunk_count"]) for r in files),
            "files": len(files),
            "dense_dim": self._layout.dense_dim,
            "analyzer": self._analyzer,
            "collection": self.collection,
            "uri": scrub_uri(self.connection.uri),
        }

    @property
    def inserter(self) -> ColumnInserter:
        """What sends the chunk rows, with its counts of each path (see ``milvus_columns``)."""
        return self._writer.inserter

    def close(self) -> None:
        """Close the connection (the local server keeps running for other clients)."""
        self._writer.inserter.close()
        self.connection.close()


__all__ = [
    "INSERT_REQUEST_BYTES",
    "WRITE_LOCK_SECONDS",
    "FileWrite",
    "KnowledgeStore",
    "decode_name",
    "encode_name",
    "file_key",
    "truncate_utf8",
]
