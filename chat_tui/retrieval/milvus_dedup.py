"""The copies side of a knowledge store's writes and searches: one passage stored once.

Why a module of its own: :mod:`chat_tui.retrieval.milvus_copies` holds the rules (rows,
filters, which copy takes over); this holds the requests a store makes with them, over
the store's connection and registry: which passages are stored already, splitting a
write into stored chunks and copy rows, promoting a copy before the rows holding its
passage are deleted, and the other files of a hit. It runs inside the store's write
lock for anything that writes (see :mod:`chat_tui.retrieval.milvus_store`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from chat_tui.retrieval import milvus_copies
from chat_tui.retrieval.chunk_key import dedup_key
from chat_tui.retrieval.milvus_connection import MilvusConnection
from chat_tui.retrieval.milvus_registry import Registry
from chat_tui.retrieval.milvus_rows import FileWrite
from chat_tui.retrieval.milvus_schema import SEARCH_TEXT_FIELD
from chat_tui.retrieval.milvus_schema import search_text as bm25_text


class Copies:
    """The copies collection of one KB and the passage keys of its chunks collection.

    Args:
        connection: the store's connection.
        registry: the store's registry (what is committed).
        collection: the chunks collection.
        name: the copies collection (``{prefix}_dups_{name}``).
    """

    def __init__(
        self, connection: MilvusConnection, registry: Registry, collection: str, name: str
    ) -> None:
        self.connection = connection
        self.registry = registry
        self.collection = collection
        self.name = name
        #: Whether the copies collection is known to exist (it is made with the first copy).
        self._exists = False

    def forget(self) -> None:
        """The collection was dropped: ask the server again next time."""
        self._exists = False

    def exist(self, create: bool = False) -> bool:
        """Whether the copies collection exists (loaded; created first when ``create``).

        Made with the first copy, not with the KB, so creating a KB stays as quick as it
        was; asked again until found, since another process may have made it.
        """
        if self._exists:
            return True

        def run(client: Any) -> bool:
            if not client.has_collection(self.name):
                if not create:
                    return False
                milvus_copies.create_copies_collection(client, self.name)
            client.load_collection(self.name)
            return True

        self._exists = bool(self.connection.call("opening the copies", run))
        return self._exists

    def stored_keys(self, keys: Iterable[str], leaving: Sequence[str]) -> set[str]:
        """The ``keys`` stored by committed chunk rows of versions not in ``leaving``."""
        wanted = set(keys)
        if not wanted:
            return set()
        rows = self.connection.call(
            "reading passage keys",
            lambda c: milvus_copies.rows_by_keys(
                c, self.collection, wanted, ["key", "source", "version"]
            ),
        )
        gone = set(leaving)
        committed = self.registry.committed(sorted({str(r["source"]) for r in rows}))
        return {
            str(r["key"])
            for r in rows
            if r["version"] not in gone and committed.get(str(r["source"])) == r["version"]
        }

    def split(
        self,
        items: Sequence[FileWrite],
        versions: Sequence[str],
        leaving: Sequence[str],
        dense: bool,
    ) -> tuple[list[FileWrite], list[dict[str, Any]]]:
        """The items without the chunks stored elsewhere, and those chunks' copy rows."""
        keys = {dedup_key(chunk.text) for _, _, chunks, _ in items for chunk in chunks}
        claimed = self.stored_keys(keys, leaving)
        kept: list[FileWrite] = []
        copy_rows: list[dict[str, Any]] = []
        splits = milvus_copies.split_items(
            [(chunks, vectors) for _, _, chunks, vectors in items], claimed, dense
        )
        for (source, file_hash, _, _), version, (stored, stored_vectors, copies) in zip(
            items, versions, splits, strict=True
        ):
            kept.append((source, file_hash, stored, stored_vectors))
            copy_rows.extend(milvus_copies.copy_row(c, key, version) for c, key in copies)
        return kept, copy_rows

    def insert(self, rows: list[dict[str, Any]]) -> None:
        """Store copy rows (creating the collection with the first ones)."""
        if rows:
            self.exist(create=True)
        for start in range(0, len(rows), 1000):
            self._insert("inserting copies", self.name, rows[start : start + 1000])

    def _insert(self, what: str, collection: str, rows: list[dict[str, Any]]) -> None:
        self.connection.call(what, lambda c: c.insert(collection, rows))

    def promote(
        self, doomed_versions: str, fields: list[str], *, search_text: bool = False
    ) -> None:
        """Store again, under their first remaining copy, passages whose rows are doomed.

        Args:
            doomed_versions: the ``version in [...]`` filter of the rows about to go.
            fields: the chunk fields to carry over (the dense vector too, if any).
        """
        doomed = self.connection.call(
            "reading passage keys",
            lambda c: milvus_copies.query_all(c, self.collection, doomed_versions, ["key"]),
        )
        keys = {str(r["key"]) for r in doomed if r.get("key")}
        if not keys:
            return
        copies = self.connection.call(
            "reading copies",
            lambda c: milvus_copies.rows_by_keys(
                c,
                self.name,
                keys,
                ["id", *milvus_copies.COPY_FIELDS],
                doomed_versions.replace("version in [", "version not in [", 1),
            ),
        )
        registry = self.registry.files([str(r["source"]) for r in copies])
        copies = [r for r in copies if registry.get(str(r["source"]), ("", ""))[0] == r["version"]]
        orphans = {str(r["key"]) for r in copies} - self.stored_keys(
            {str(r["key"]) for r in copies}, []
        )
        if not orphans:
            return
        old_rows = self.connection.call(
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
        # What BM25 reads names the file that now holds the passage. Its page summary
        # (``Chunk.summary``) is not stored, so a promoted passage is read without one
        # until that file is ingested again (``--rebuild``).
        if search_text:
            for row in rows:
                row[SEARCH_TEXT_FIELD] = bm25_text(
                    str(row["source"]), str(row.get("heading", "")), str(row["text"])
                )
        for start in range(0, len(rows), 200):
            self._insert("inserting", self.collection, rows[start : start + 200])
        if used:
            self.connection.call("deleting copies", lambda c: c.delete(self.name, ids=used))

    def delete(self, expression: str) -> None:
        """Delete the copy rows matching a ``version in [...]`` filter."""
        self.connection.call(
            "deleting old copies", lambda c: c.delete(self.name, filter=expression)
        )

    def sources(self, keys: Sequence[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
        """``key -> other committed sources`` of the passages ``(key, source)``."""
        if not keys or not self.exist():
            return {}
        rows = self.connection.call(
            "reading copies",
            lambda c: milvus_copies.rows_by_keys(
                c, self.name, {k for k, _ in keys}, ["key", "source", "version"]
            ),
        )
        return milvus_copies.also_in(keys, rows, self.registry.committed)


__all__ = ["Copies"]
