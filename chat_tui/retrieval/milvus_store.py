"""One knowledge base in Milvus: its chunks, a registry of complete files, and searches.

Why it exists: ingest and retrieval both need one place that knows the schema,
keeps files all-or-none, and turns Milvus hits into ``Passage`` values. The API
is synchronous (pymilvus is); async callers run it with ``asyncio.to_thread``.
Nothing is imported or connected until first use. The connection handling lives in
:mod:`~chat_tui.retrieval.milvus_connection` and the searches in
:mod:`~chat_tui.retrieval.milvus_search`; this module is the schema, the registry and
the writes.

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
is ignored there), and pymilvus builds ``get``/``delete`` by ids by pasting the
ids into ``key in ['...']`` unescaped. So every key and every filter this module
sends is built only from a safe alphabet: registry keys are hashes of the source,
versions are hex we generate (checked on read back), and old rows are deleted by
version, never by source: a file named ``x'] or key not in ['.md`` is just a name.

``name`` is the KB name with everything except ASCII letters and digits written
as ``_<hex>_`` (reversible, so ``list_knowledge_bases`` returns real names).

Writers of one KB are serialised by a lock file in ``knowledge_dir`` (two ingests
on overlapping trees would otherwise both see the same old version and one's rows
would be left behind unregistered).

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

import fcntl
import hashlib
import os
import re
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from chat_tui.errors import RetrievalError
from chat_tui.retrieval import milvus_copies
from chat_tui.retrieval.chunk_key import dedup_key
from chat_tui.retrieval.milvus_schema import (
    ANCHOR_MAX_BYTES,
    HASH_MAX_BYTES,
    HEADING_MAX_BYTES,
    LOCATION_FIELDS,
    OUTPUT_FIELDS,
    SEARCH_TEXT_FIELD,
    SOURCE_MAX_BYTES,
    TEXT_MAX_BYTES,
    create_chunks_collection,
    create_registry_collection,
    decode_name,
    encode_name,
    read_schema,
    scrub_uri,
    search_text,
    truncate_utf8,
)
from chat_tui.retrieval.milvus_search import KnowledgeSearch
from chat_tui.retrieval.types import Chunk

if TYPE_CHECKING:
    from chat_tui.config import Settings

T = TypeVar("T")

#: One file to store: ``(source, file_hash, chunks, vectors or None)``; a vector may be
#: None for a chunk the caller expects to be a copy (see ``MissingVectors``).
FileWrite = tuple[str, str, Sequence[Chunk], Sequence[Sequence[float] | None] | None]
#: Row bytes per insert request: far below the 256 MB gRPC limit of Milvus (Lite and
#: standalone), and small enough that one request never holds the server for long.
INSERT_REQUEST_BYTES = 16 * 1024 * 1024
#: Versions per delete filter (Milvus parses the whole expression).
_VERSIONS_PER_DELETE = 2000
_STALE_REMOTE_PENDING_SECONDS = 24 * 3600
#: What a version looks like (we generate them: ``uuid4().hex[:16]``).
_VERSION = re.compile(r"[0-9a-f]{1,32}")
#: How long a writer waits for another process's write of the same KB to finish.
WRITE_LOCK_SECONDS = 600.0
#: Registry keys of the format before keys were hashed (``file:<source>``).
_LEGACY_KEY_FILTER = 'kind == "file" and key like "file:%"'


def file_key(source: str) -> str:
    """The registry key of ``source``: a hash, so no file name ever reaches an expression."""
    return "f:" + hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()


def _versions_filter(versions: Sequence[str]) -> str:
    """``version in [...]`` from versions checked to be hex (never from arbitrary data)."""
    for version in versions:
        if not _VERSION.fullmatch(version):
            raise RetrievalError(f"the registry holds a malformed version {version[:40]!r}")
    return "version in [" + ", ".join(f'"{v}"' for v in versions) + "]"


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_gone(owner: str, updated: float) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return time.time() - updated > _STALE_REMOTE_PENDING_SECONDS
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def _registry_row(
    kind: str, source: str, file_hash: str, version: str, chunk_count: int
) -> dict[str, Any]:
    return {
        "key": file_key(source) if kind == "file" else f"{kind}:{version}",
        "kind": kind,
        "source": source,
        "file_hash": truncate_utf8(file_hash, HASH_MAX_BYTES),
        "version": version,
        "chunk_count": chunk_count,
        "owner": _owner(),
        "updated": time.time(),
        "unused": [0.0, 0.0],
    }


def _upgrade_legacy_keys(client: Any, registry: str) -> None:
    """Re-key registry rows written as ``file:<source>`` (before keys were hashed)."""
    rows: list[dict[str, Any]] = []
    while True:  # paged: Milvus caps one query at 16,384 rows
        batch = client.query(
            registry, filter=_LEGACY_KEY_FILTER, output_fields=["*"], limit=1000, offset=len(rows)
        )
        rows.extend(batch)
        if len(batch) < 1000:
            break
    if not rows:
        return
    for start in range(0, len(rows), 1000):
        client.upsert(
            registry,
            [{**row, "key": file_key(str(row["source"]))} for row in rows[start : start + 1000]],
        )
    # Every old row has its new twin now; the old keys hold data, so delete them by a
    # constant filter rather than by id.
    client.delete(registry, filter=_LEGACY_KEY_FILTER)


class KnowledgeStore(KnowledgeSearch):
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
        super().__init__()
        self._client = None
        self._uri = ""
        self._opened = False
        self._dense_dim: int | None = None
        self._analyzer = ""
        #: Whether BM25 reads ``search_text`` (KBs made since it exists), not ``text``.
        self._search_text = False
        #: Whether the copies collection is known to exist (it is made with the first copy).
        self._has_copies = False

    # ------------------------------------------------------------------ schema

    @classmethod
    def list_knowledge_bases(cls, settings: Settings) -> list[str]:
        """Names of the knowledge bases that exist, sorted."""
        store = cls(settings)
        if store._local_db_missing():
            return []
        try:
            names = store._call("listing", lambda c: c.list_collections())
        finally:
            store.close()
        marker = f"{settings.milvus.collection_prefix}_kb_"
        return sorted(decode_name(n[len(marker) :]) for n in names if n.startswith(marker))

    def exists(self) -> bool:
        """Whether this KB's collection exists (never starts a server for an empty data dir)."""
        if self._local_db_missing():
            return False
        return bool(self._call("checking", lambda c: c.has_collection(self.collection)))

    @property
    def dense_dim(self) -> int | None:
        """The KB's dense dimension, or None for BM25-only (known after ``ensure``/a search)."""
        self._open()
        return self._dense_dim

    def _open(self, create: bool = False) -> bool:
        """Load both collections (creating them when ``create``); False if the KB doesn't exist."""
        if self._opened and self._client is not None:
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
            self._dense_dim, self._analyzer, fields = read_schema(client, self.collection)
            self._locations = tuple(name for name in LOCATION_FIELDS if name in fields)
            self._search_text = SEARCH_TEXT_FIELD in fields
            _upgrade_legacy_keys(client, self.registry)
            return True

        if create:
            # Two ingests creating one KB at once: the second must find it, not fail.
            with self._write_lock():
                opened = self._call("opening", run)
        else:
            opened = self._call("opening", run)
        self._opened = opened
        return opened

    def ensure(self) -> None:
        """Create the KB if missing, load it, and clean up after writers that were killed.

        Raises:
            RetrievalError: Milvus failed, or the KB stores vectors of another dimension.
        """
        self._open(create=True)
        if self._requested_dim and self._dense_dim and self._requested_dim != self._dense_dim:
            raise RetrievalError(
                f"knowledge base {self.knowledge_base!r} stores {self._dense_dim}-dimensional "
                f"vectors but the "
                f"embedder gives {self._requested_dim}; re-ingest with --rebuild"
            )
        self._clean_pending()

    def _need_open(self) -> None:
        if not self._open():
            raise RetrievalError(
                f"knowledge base {self.knowledge_base!r} does not exist (run chat-tui ingest)"
            )

    # ------------------------------------------------------------------ registry

    def _registry_rows(self, kind: str) -> list[dict[str, Any]]:
        def run(client: Any) -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            page = 1000
            while True:  # paged: Milvus caps one query at 16,384 rows
                batch = client.query(
                    self.registry,
                    filter=f'kind == "{kind}"',  # one of our own two constants
                    output_fields=[
                        "key",
                        "source",
                        "file_hash",
                        "version",
                        "chunk_count",
                        "owner",
                        "updated",
                    ],
                    limit=page,
                    offset=len(rows),
                )
                rows.extend(batch)
                if len(batch) < page:
                    return rows

        return self._call("reading the file registry", run)

    def _committed(self, sources: Sequence[str]) -> dict[str, str]:
        """``source -> version`` of the given sources that are registered as complete."""
        if not sources:
            return {}
        rows = self._call(
            "reading the file registry",
            lambda c: c.get(
                self.registry,
                ids=[file_key(s) for s in sources],
                output_fields=["source", "version"],
            ),
        )
        return {row["source"]: row["version"] for row in rows}

    def _clean_pending(self) -> None:
        with self._write_lock():
            self._clean_pending_locked(None)

    def _clean_pending_locked(self, sources: set[str] | None) -> None:
        """Delete rows and markers of writers that are gone (only of ``sources`` if given)."""
        for row in self._registry_rows("pending"):
            if sources is not None and str(row["source"]) not in sources:
                continue
            if not _owner_gone(str(row.get("owner", "")), float(row.get("updated") or 0.0)):
                continue
            version = str(row["version"])
            if self._committed([str(row["source"])]).get(str(row["source"])) != version:
                self._delete_versions([version])
            self._delete_registry_keys([str(row["key"])])

    def _delete_registry_keys(self, keys: Sequence[str]) -> None:
        # Keys are "f:<hex>" or "pending:<hex>": safe to hand to pymilvus's ids= expression.
        if keys:
            self._call("registering", lambda c: c.delete(self.registry, ids=list(keys)))

    def _delete_versions(self, versions: Iterable[str]) -> None:
        """Delete the chunk and copy rows of these versions (each is one write of one file).

        Passages stored by these rows that have committed copies elsewhere are stored
        again under the first copy first (``milvus_copies``), so they stay findable.
        """
        unique = sorted(set(versions))
        for start in range(0, len(unique), _VERSIONS_PER_DELETE):
            expression = _versions_filter(unique[start : start + _VERSIONS_PER_DELETE])
            copies = self._dedup and self._copies_exist()
            if copies:
                self._promote(expression)
            self._delete_rows(expression)
            if copies:
                self._delete_copies(expression)

    def _copies_exist(self, create: bool = False) -> bool:
        """Whether the copies collection exists (loaded; created first when ``create``).

        Made with the first copy, not with the KB, so creating a KB stays as quick as it
        was; asked again until found, since another process may have made it.
        """
        if self._has_copies:
            return True

        def run(client: Any) -> bool:
            if not client.has_collection(self.copies):
                if not create:
                    return False
                milvus_copies.create_copies_collection(client, self.copies)
            client.load_collection(self.copies)
            return True

        self._has_copies = bool(self._call("opening the copies", run))
        return self._has_copies

    @property
    def _dedup(self) -> bool:
        """Whether this KB stores passages once (its chunks have the ``key`` field)."""
        return "key" in self._locations

    def _stored_keys(self, keys: Iterable[str], leaving: Sequence[str]) -> set[str]:
        """The ``keys`` stored by committed chunk rows of versions not in ``leaving``."""
        wanted = set(keys)
        if not wanted:
            return set()
        rows = self._call(
            "reading passage keys",
            lambda c: milvus_copies.rows_by_keys(
                c, self.collection, wanted, ["key", "source", "version"]
            ),
        )
        gone = set(leaving)
        committed = self._committed(sorted({str(r["source"]) for r in rows}))
        return {
            str(r["key"])
            for r in rows
            if r["version"] not in gone and committed.get(str(r["source"])) == r["version"]
        }

    def _promote(self, doomed_versions: str) -> None:
        """Store again, under their first remaining copy, passages whose rows are doomed."""
        doomed = self._call(
            "reading passage keys",
            lambda c: milvus_copies.query_all(c, self.collection, doomed_versions, ["key"]),
        )
        keys = {str(r["key"]) for r in doomed if r.get("key")}
        if not keys:
            return
        copies = self._call(
            "reading copies",
            lambda c: milvus_copies.rows_by_keys(
                c,
                self.copies,
                keys,
                ["id", *milvus_copies.COPY_FIELDS],
                doomed_versions.replace("version in [", "version not in [", 1),
            ),
        )
        registry = self._files([str(r["source"]) for r in copies])
        copies = [r for r in copies if registry.get(str(r["source"]), ("", ""))[0] == r["version"]]
        orphans = {str(r["key"]) for r in copies} - self._stored_keys(
            {str(r["key"]) for r in copies}, []
        )
        if not orphans:
            return
        fields = [*OUTPUT_FIELDS, *self._locations, *(["dense"] if self._dense_dim else [])]
        old_rows = self._call(
            "reading passages",
            lambda c: milvus_copies.rows_by_keys(
                c, self.collection, orphans, fields, doomed_versions
            ),
        )
        one_each = list({str(r["key"]): r for r in old_rows}.values())
        rows, used = milvus_copies.promoted_rows(
            one_each,
            [r for r in copies if str(r["key"]) in orphans],
            {source: file_hash for source, (_, file_hash) in registry.items()},
        )
        if self._search_text:  # what BM25 reads names the file that now holds the passage
            for row in rows:
                row[SEARCH_TEXT_FIELD] = search_text(
                    str(row["source"]), str(row.get("heading", "")), str(row["text"])
                )
        for start in range(0, len(rows), 200):
            self._insert(rows[start : start + 200])
        if used:
            self._call("deleting copies", lambda c: c.delete(self.copies, ids=used))

    def _files(self, sources: Sequence[str]) -> dict[str, tuple[str, str]]:
        """``source -> (committed version, file hash)`` of the given sources."""
        unique = sorted(set(sources))
        if not unique:
            return {}
        rows = self._call(
            "reading the file registry",
            lambda c: c.get(
                self.registry,
                ids=[file_key(s) for s in unique],
                output_fields=["source", "version", "file_hash"],
            ),
        )
        return {str(r["source"]): (str(r["version"]), str(r["file_hash"])) for r in rows}

    def _delete_copies(self, expression: str) -> None:
        self._call("deleting old copies", lambda c: c.delete(self.copies, filter=expression))

    def _insert_copies(self, rows: list[dict[str, Any]]) -> None:
        self._call("inserting copies", lambda c: c.insert(self.copies, rows))

    def _delete_rows(self, expression: str) -> None:
        self._call("deleting old rows", lambda c: c.delete(self.collection, filter=expression))

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Serialise writers of this KB across processes (see the module docstring)."""
        folder = self.settings.knowledge_dir / "locks"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder / f"{self.registry}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise RetrievalError(
                f"cannot create the knowledge-base lock in {folder}: {error.strerror or error}"
            ) from None
        try:
            deadline = time.monotonic() + WRITE_LOCK_SECONDS
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise RetrievalError(
                            f"knowledge base {self.knowledge_base!r} is being written by "
                            f"another process for over {WRITE_LOCK_SECONDS:.0f} s"
                        ) from None
                    time.sleep(0.05)  # another ingest's batch; short, and Ctrl+C still works
            yield
        finally:
            os.close(fd)  # releases the lock

    def file_hashes(self) -> dict[str, str]:
        """``source -> file_hash`` of the files stored completely."""
        if not self.exists():
            return {}
        self._need_open()
        return {str(r["source"]): str(r["file_hash"]) for r in self._registry_rows("file")}

    def sources(self) -> list[tuple[str, str, int]]:
        """``(source, file_hash, chunk_count)`` of the stored files, sorted by source."""
        if not self.exists():
            return []
        self._need_open()
        rows = self._registry_rows("file")
        return sorted((str(r["source"]), str(r["file_hash"]), int(r["chunk_count"])) for r in rows)

    # ------------------------------------------------------------------ writes

    def _row(
        self, chunk: Chunk, version: str, file_hash: str, vector: Sequence[float] | None
    ) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": f"{truncate_utf8(chunk.id, 400)}:{version}",
            "source": chunk.source,
            "file_hash": file_hash,
            "version": version,
            "heading": truncate_utf8(chunk.heading, HEADING_MAX_BYTES),
            "text": truncate_utf8(chunk.text, TEXT_MAX_BYTES),
            "line_start": -1 if chunk.line_start is None else chunk.line_start,
            "line_end": -1 if chunk.line_end is None else chunk.line_end,
            "page": -1 if chunk.page is None else chunk.page,
            "idx": chunk.index,
        }
        if "anchor" in self._locations:
            row["anchor"] = truncate_utf8(chunk.anchor, ANCHOR_MAX_BYTES)
        if "root" in self._locations:
            row["root"] = truncate_utf8(chunk.root, SOURCE_MAX_BYTES)
        if "key" in self._locations:
            row["key"] = dedup_key(chunk.text)
        if self._search_text:
            row[SEARCH_TEXT_FIELD] = search_text(chunk.source, chunk.heading, chunk.text)
        if self._dense_dim:
            row["dense"] = [float(x) for x in vector] if vector is not None else None
        return row

    def _check_write(self, item: FileWrite) -> None:
        source, file_hash, chunks, vectors = item
        if len(source.encode("utf-8")) > SOURCE_MAX_BYTES:
            raise RetrievalError(f"path too long for the knowledge base: {source[:80]}...")
        if len(file_hash.encode("utf-8")) > HASH_MAX_BYTES:
            raise RetrievalError("file hash longer than 128 bytes")
        if not self._dense_dim:
            return
        if vectors is None and chunks:
            raise RetrievalError(
                f"knowledge base {self.knowledge_base!r} stores dense vectors: set JINA_API_KEY "
                "(or embedding.*) or re-ingest with --rebuild"
            )
        if vectors is not None and len(vectors) != len(chunks):
            raise RetrievalError(f"{len(chunks)} chunks but {len(vectors)} vectors for {source}")
        if vectors and any(v is not None and len(v) != self._dense_dim for v in vectors):
            raise RetrievalError(
                f"knowledge base {self.knowledge_base!r} stores {self._dense_dim}-dimensional "
                "vectors; re-ingest with --rebuild to change the embedding model or dimensions"
            )

    def _insert_requests(
        self, items: Sequence[FileWrite], versions: Sequence[str]
    ) -> list[list[dict[str, Any]]]:
        """All files' rows, cut into insert requests of at most ``INSERT_REQUEST_BYTES``."""
        requests: list[list[dict[str, Any]]] = [[]]
        size = 0
        vector_bytes = 4 * (self._dense_dim or 0)
        for (_, file_hash, chunks, vectors), version in zip(items, versions, strict=True):
            for i, chunk in enumerate(chunks):
                vector = vectors[i] if vectors is not None and self._dense_dim else None
                row = self._row(chunk, version, file_hash, vector)
                row_bytes = 256 + vector_bytes + len(row["text"]) * 3 + len(row["source"]) * 3
                if requests[-1] and size + row_bytes > INSERT_REQUEST_BYTES:
                    requests.append([])
                    size = 0
                requests[-1].append(row)
                size += row_bytes
        return [rows for rows in requests if rows]

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        self._call("inserting", lambda c: c.insert(self.collection, rows))

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
            self._check_write(item)
        with self._write_lock():
            self._replace_locked(items, sources, flush)

    def _replace_locked(self, items: Sequence[FileWrite], sources: list[str], flush: bool) -> None:
        # Rows of a source exist only for its registered version or a pending marker's, so
        # the old rows are exactly those versions: deleted by version, never by source.
        self._clean_pending_locked(set(sources))
        committed = self._committed(sources)
        versions = [uuid.uuid4().hex[:16] for _ in items]
        copy_rows: list[dict[str, Any]] = []
        stored = items
        if self._dedup:  # decided before anything is written: MissingVectors leaves no trace
            stored, copy_rows = self._split_copies(items, versions, list(committed.values()))
        if self._dense_dim:
            milvus_copies.check_vectors(stored)
        pending_rows = [
            _registry_row("pending", source, file_hash, version, len(chunks))
            for (source, file_hash, chunks, _), version in zip(items, versions, strict=True)
        ]
        # The old versions get markers too: a writer killed after the commit leaves them
        # named, so the next clean-up deletes them (they are no longer the registered ones).
        superseded = [
            _registry_row("pending", source, "", version, 0)
            for source, version in committed.items()
        ]
        self._call("registering", lambda c: c.upsert(self.registry, pending_rows + superseded))
        requests = self._insert_requests(stored, versions)
        for rows in requests:
            self._insert(rows)
        if copy_rows:
            self._copies_exist(create=True)
        for start in range(0, len(copy_rows), 1000):
            self._insert_copies(copy_rows[start : start + 1000])
        file_rows = [
            {**row, "key": file_key(row["source"]), "kind": "file"} for row in pending_rows
        ]
        self._call("registering", lambda c: c.upsert(self.registry, file_rows))  # commit point
        self._delete_versions(committed.values())
        self._delete_registry_keys([row["key"] for row in pending_rows + superseded])
        if flush and (requests or committed):
            self.flush()

    def _split_copies(
        self, items: Sequence[FileWrite], versions: Sequence[str], leaving: Sequence[str]
    ) -> tuple[list[FileWrite], list[dict[str, Any]]]:
        """The items without the chunks stored elsewhere, and those chunks' copy rows."""
        keys = {dedup_key(chunk.text) for _, _, chunks, _ in items for chunk in chunks}
        claimed = self._stored_keys(keys, leaving)
        kept: list[FileWrite] = []
        copy_rows: list[dict[str, Any]] = []
        splits = milvus_copies.split_items(
            [(chunks, vectors) for _, _, chunks, vectors in items], claimed, bool(self._dense_dim)
        )
        for (source, file_hash, _, _), version, (stored, stored_vectors, copies) in zip(
            items, versions, splits, strict=True
        ):
            kept.append((source, file_hash, stored, stored_vectors))
            copy_rows.extend(milvus_copies.copy_row(c, key, version) for c, key in copies)
        return kept, copy_rows

    @property
    def stores_once(self) -> bool:
        """Whether this KB stores each passage once (made before that: it stores copies)."""
        return self._open() and self._dedup

    def stored_keys(self, keys: Iterable[str], other_than: str = "") -> set[str]:
        """The passage ``keys`` stored by committed files other than ``other_than``.

        What an ingest need not embed: such chunks will be copies (unless the file that
        stores them goes before the write, which ``MissingVectors`` reports).
        """
        if not self._open() or not self._dedup:
            return set()
        leaving = list(self._committed([other_than]).values()) if other_than else []
        return self._stored_keys(keys, leaving)

    def copy_sources(self, keys: Sequence[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
        """``key -> other committed sources`` of the passages ``(key, source)`` (search hits)."""
        if not self._dedup or not keys or not self._copies_exist():
            return {}
        rows = self._call(
            "reading copies",
            lambda c: milvus_copies.rows_by_keys(
                c, self.copies, {k for k, _ in keys}, ["key", "source", "version"]
            ),
        )
        return milvus_copies.also_in(keys, rows, self._committed)

    def flush(self) -> None:
        """Persist the rows written so far into segments, where searches over them are fast."""
        if self._open():
            self._call("flushing", lambda c: c.flush(self.collection))

    def remove_file(self, source: str) -> int:
        """Remove a file's chunks; returns how many rows were removed (0 if unknown)."""
        if not self.exists():
            return 0
        self._need_open()
        rows = self._call(
            "reading the file registry",
            lambda c: c.get(self.registry, ids=[file_key(source)], output_fields=["chunk_count"]),
        )
        count = int(rows[0]["chunk_count"]) if rows else 0
        with self._write_lock():
            self._clean_pending_locked({source})
            version = self._committed([source]).get(source)
            # The marker keeps "rows exist only for registered or marked versions" true if
            # killed: it names the version whose rows are about to go.
            marker = _registry_row("pending", source, "", version or uuid.uuid4().hex[:16], 0)
            self._call("registering", lambda c: c.upsert(self.registry, [marker]))
            self._delete_registry_keys([file_key(source)])
            if version is not None:
                self._delete_versions([version])
            self._delete_registry_keys([marker["key"]])
        return count

    def drop(self) -> None:
        """Delete the whole knowledge base."""

        def run(client: Any) -> None:
            for name in (self.collection, self.registry, self.copies):
                if client.has_collection(name):
                    client.drop_collection(name)

        self._call("dropping", run)
        self._opened = False
        self._has_copies = False

    # ------------------------------------------------------------------ misc

    def stats(self) -> dict[str, object]:
        """Chunks, files, dense dimension, analyzer, collection and uri (never the token)."""
        self._need_open()
        files = self._registry_rows("file")
        return {
            "knowledge_base": self.knowledge_base,
            "chunks": sum(int(r["chunk_count"]) for r in files),
            "files": len(files),
            "dense_dim": self._dense_dim,
            "analyzer": self._analyzer,
            "collection": self.collection,
            "uri": scrub_uri(self._uri),
        }

    def close(self) -> None:
        """Close the connection (the local server keeps running for other clients)."""
        self._reset()
