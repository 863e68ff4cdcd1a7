"""The all-or-none write protocol of a knowledge store, run under its write lock.

Why a module of its own: :mod:`chat_tui.retrieval.milvus_store` decides *when* to
write (open the KB, check the arguments, take the lock); this is *how* a write stays
all-or-none against a kill at any instant: pending markers first, rows under a fresh
version, the registry upsert as the commit point, old versions deleted by version
afterwards, and the clean-up of what a killed writer left (see the store's module
docstring for the invariants). Every method expects the caller to hold the lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from chat_tui.retrieval import milvus_copies
from chat_tui.retrieval.milvus_columns import ColumnInserter
from chat_tui.retrieval.milvus_connection import MilvusConnection
from chat_tui.retrieval.milvus_dedup import Copies
from chat_tui.retrieval.milvus_registry import (
    Registry,
    file_key,
    owner_gone,
    registry_row,
    versions_filter,
)
from chat_tui.retrieval.milvus_rows import FileWrite, Layout, insert_requests

#: Versions per delete filter (Milvus parses the whole expression).
_VERSIONS_PER_DELETE = 2000


class FileWriter:
    """Writes of one KB's files (call with the KB's write lock held).

    Args:
        connection: the store's connection.
        registry: the store's registry.
        copies: the store's copies.
        collection: the chunks collection.
    """

    def __init__(
        self, connection: MilvusConnection, registry: Registry, copies: Copies, collection: str
    ) -> None:
        self.connection = connection
        self.registry = registry
        self.copies = copies
        self.collection = collection
        #: Sends the chunk rows (column-wise for big inserts; see ``milvus_columns``).
        self.inserter = ColumnInserter(connection, collection)

    def clean_pending(self, sources: set[str] | None, *, layout: Layout) -> None:
        """Delete rows and markers of writers that are gone (only of ``sources`` if given)."""
        for row in self.registry.rows("pending"):
            if sources is not None and str(row["source"]) not in sources:
                continue
            if not owner_gone(str(row.get("owner", "")), float(row.get("updated") or 0.0)):
                continue
            version = str(row["version"])
            if self.registry.committed([str(row["source"])]).get(str(row["source"])) != version:
                self.delete_versions([version], layout=layout)
            self.registry.delete_keys([str(row["key"])])

    def delete_versions(self, versions: Iterable[str], *, layout: Layout) -> None:
        """Delete the chunk and copy rows of these versions (each is one write of one file).

        Passages stored by these rows that have committed copies elsewhere are stored
        again under the first copy first (``milvus_copies``), so they stay findable.
        """
        unique = sorted(set(versions))
        for start in range(0, len(unique), _VERSIONS_PER_DELETE):
            expression = versions_filter(unique[start : start + _VERSIONS_PER_DELETE])
            copies = layout.dedup and self.copies.exist()
            if copies:
                self.copies.promote(
                    expression, layout.fields(dense=True), search_text=layout.search_text
                )
            self._delete_rows(expression)
            if copies:
                self.copies.delete(expression)

    def _delete_rows(self, expression: str) -> None:
        self.connection.call(
            "deleting old rows", lambda c: c.delete(self.collection, filter=expression)
        )

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        self.connection.call("inserting", lambda c: self.inserter.insert(c, rows))

    def replace(
        self, items: Sequence[FileWrite], sources: list[str], *, layout: Layout, request_bytes: int
    ) -> bool:
        """Store ``items`` (checked already), each all-or-none; whether a flush is due."""
        # Rows of a source exist only for its registered version or a pending marker's, so
        # the old rows are exactly those versions: deleted by version, never by source.
        self.clean_pending(set(sources), layout=layout)
        committed = self.registry.committed(sources)
        versions = [uuid.uuid4().hex[:16] for _ in items]
        copy_rows: list[dict[str, Any]] = []
        stored = items
        if layout.dedup:  # decided before anything is written: MissingVectors leaves no trace
            stored, copy_rows = self.copies.split(
                items, versions, list(committed.values()), bool(layout.dense_dim)
            )
        if layout.dense_dim:
            milvus_copies.check_vectors(stored)
        pending_rows = [
            registry_row("pending", source, file_hash, version, len(chunks))
            for (source, file_hash, chunks, _), version in zip(items, versions, strict=True)
        ]
        # The old versions get markers too: a writer killed after the commit leaves them
        # named, so the next clean-up deletes them (they are no longer the registered ones).
        superseded = [
            registry_row("pending", source, "", version, 0) for source, version in committed.items()
        ]
        self.registry.upsert(pending_rows + superseded)
        requests = insert_requests(
            stored,
            versions,
            request_bytes=request_bytes,
            locations=layout.locations,
            dense_dim=layout.dense_dim,
            search_text=layout.search_text,
        )
        for rows in requests:
            self._insert(rows)
        self.copies.insert(copy_rows)
        file_rows = [
            {**row, "key": file_key(row["source"]), "kind": "file"} for row in pending_rows
        ]
        self.registry.upsert(file_rows)  # the commit point
        self.delete_versions(committed.values(), layout=layout)
        self.registry.delete_keys([row["key"] for row in pending_rows + superseded])
        return bool(requests or committed)

    def remove(self, source: str, *, layout: Layout) -> None:
        """Remove a file's rows and registry row (nothing happens to an unknown file)."""
        self.clean_pending({source}, layout=layout)
        version = self.registry.committed([source]).get(source)
        # The marker keeps "rows exist only for registered or marked versions" true if
        # killed: it names the version whose rows are about to go.
        marker = registry_row("pending", source, "", version or uuid.uuid4().hex[:16], 0)
        self.registry.upsert([marker])
        self.registry.delete_keys([file_key(source)])
        if version is not None:
            self.delete_versions([version], layout=layout)
        self.registry.delete_keys([marker["key"]])


__all__ = ["FileWriter"]
