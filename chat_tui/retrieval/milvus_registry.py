"""The file registry of a knowledge base, and the lock that serialises its writers.

Why a module of its own: the registry (``{prefix}_files_{name}``) is what makes a
file all-or-none (see :mod:`chat_tui.retrieval.milvus_store` for the protocol), and
it is the one place data could reach a Milvus expression. So its keys are hashes of
the source (``f:<sha256>``) or ``pending:<version>``, versions are hex we generate
(checked on read back), and rows are deleted by version, never by source.
pymilvus builds ``get``/``delete`` by ids by pasting the ids into ``key in ['...']``
unescaped (Milvus Lite has no filter templates), which these keys survive.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chat_tui.errors import RetrievalError
from chat_tui.retrieval.milvus_connection import MilvusConnection
from chat_tui.retrieval.milvus_schema import HASH_MAX_BYTES, truncate_utf8

_STALE_REMOTE_PENDING_SECONDS = 24 * 3600
#: What a version looks like (we generate them: ``uuid4().hex[:16]``).
_VERSION = re.compile(r"[0-9a-f]{1,32}")
#: How long a writer waits for another process's write of the same KB to finish.
WRITE_LOCK_SECONDS = 600.0
#: Registry keys of the format before keys were hashed (``file:<source>``).
_LEGACY_KEY_FILTER = 'kind == "file" and key like "file:%"'
_ROW_FIELDS = ["key", "source", "file_hash", "version", "chunk_count", "owner", "updated"]


def file_key(source: str) -> str:
    """The registry key of ``source``: a hash, so no file name ever reaches an expression."""
    return "f:" + hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()


def versions_filter(versions: Sequence[str]) -> str:
    """``version in [...]`` from versions checked to be hex (never from arbitrary data)."""
    for version in versions:
        if not _VERSION.fullmatch(version):
            raise RetrievalError(f"the registry holds a malformed version {version[:40]!r}")
    return "version in [" + ", ".join(f'"{v}"' for v in versions) + "]"


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_gone(owner: str, updated: float) -> bool:
    """Whether the writer that made a pending marker is gone (a day for other hosts)."""
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


def registry_row(
    kind: str, source: str, file_hash: str, version: str, chunk_count: int
) -> dict[str, Any]:
    """A ``file`` row (keyed by the source's hash) or a ``pending`` marker of ``version``."""
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


def upgrade_legacy_keys(client: Any, registry: str) -> None:
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


class Registry:
    """Reads and writes of one KB's registry collection, through the store's connection.

    Args:
        connection: the store's connection.
        name: the registry collection (``{prefix}_files_{name}``).
    """

    def __init__(self, connection: MilvusConnection, name: str) -> None:
        self.connection = connection
        self.name = name

    def rows(self, kind: str) -> list[dict[str, Any]]:
        """Every row of ``kind`` (``"file"`` or ``"pending"``)."""

        def run(client: Any) -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            page = 1000
            while True:  # paged: Milvus caps one query at 16,384 rows
                batch = client.query(
                    self.name,
                    filter=f'kind == "{kind}"',  # one of our own two constants
                    output_fields=_ROW_FIELDS,
                    limit=page,
                    offset=len(rows),
                )
                rows.extend(batch)
                if len(batch) < page:
                    return rows

        return self.connection.call("reading the file registry", run)

    def committed(self, sources: Sequence[str]) -> dict[str, str]:
        """``source -> version`` of the given sources that are registered as complete."""
        if not sources:
            return {}
        rows = self.connection.call(
            "reading the file registry",
            lambda c: c.get(
                self.name, ids=[file_key(s) for s in sources], output_fields=["source", "version"]
            ),
        )
        return {row["source"]: row["version"] for row in rows}

    def files(self, sources: Sequence[str]) -> dict[str, tuple[str, str]]:
        """``source -> (committed version, file hash)`` of the given sources."""
        unique = sorted(set(sources))
        if not unique:
            return {}
        rows = self.connection.call(
            "reading the file registry",
            lambda c: c.get(
                self.name,
                ids=[file_key(s) for s in unique],
                output_fields=["source", "version", "file_hash"],
            ),
        )
        return {str(r["source"]): (str(r["version"]), str(r["file_hash"])) for r in rows}

    def chunk_count(self, source: str) -> int:
        """How many chunks the committed version of ``source`` has (0 if unknown)."""
        rows = self.connection.call(
            "reading the file registry",
            lambda c: c.get(self.name, ids=[file_key(source)], output_fields=["chunk_count"]),
        )
        return int(rows[0]["chunk_count"]) if rows else 0

    def upsert(self, rows: list[dict[str, Any]]) -> None:
        """Write rows (markers, or the file rows: the commit point of a write)."""
        self.connection.call("registering", lambda c: c.upsert(self.name, rows))

    def delete_keys(self, keys: Sequence[str]) -> None:
        """Delete rows by key."""
        # Keys are "f:<hex>" or "pending:<hex>": safe to hand to pymilvus's ids= expression.
        if keys:
            self.connection.call("registering", lambda c: c.delete(self.name, ids=list(keys)))


@contextmanager
def write_lock(knowledge_dir: Path, registry: str, knowledge_base: str) -> Iterator[None]:
    """Serialise writers of one KB across processes (a lock file in ``knowledge_dir``).

    Two ingests on overlapping trees would otherwise both see the same old version and
    one's rows would be left behind unregistered.

    Raises:
        RetrievalError: the lock file cannot be made, or another writer held it for
            over ``WRITE_LOCK_SECONDS``.
    """
    folder = knowledge_dir / "locks"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / f"{registry}.lock", os.O_RDWR | os.O_CREAT, 0o600)
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
                        f"knowledge base {knowledge_base!r} is being written by "
                        f"another process for over {WRITE_LOCK_SECONDS:.0f} s"
                    ) from None
                time.sleep(0.05)  # another ingest's batch; short, and Ctrl+C still works
        yield
    finally:
        os.close(fd)  # releases the lock


__all__ = [
    "WRITE_LOCK_SECONDS",
    "Registry",
    "file_key",
    "owner_gone",
    "registry_row",
    "upgrade_legacy_keys",
    "versions_filter",
    "write_lock",
]
