"""Copies of passages: a knowledge base stores each passage once and remembers every copy.

Why it exists: documentation repeats itself (Sphinx footers on every page, licences,
a page copied into two folders). Storing each copy costs a row and fills the top hits
with one text. So a write stores a chunk only when no other committed file (and no
earlier chunk of the same write) already stores its passage (:func:`dedup_key`); the
others become rows of ``{prefix}_dups_{name}``: one per occurrence, with the key and
the occurrence's own location, under the version of the file that holds it. Hits then
carry ``also_in`` (the other files of the passage).

The rule that keeps it correct: a stored chunk whose rows are about to be deleted (its
file removed, changed or superseded) hands its text and vector to the first remaining
committed copy, which becomes a stored chunk of *its* file and version (promotion), in
the same locked write and before the delete. So a passage stays findable as long as
one file holding it is in the knowledge base, and removing that file removes it.

Everything here runs inside the store's write lock (decisions are made against the
committed state, never a stale one). No data in expressions: keys are hex we compute
(checked when read back), versions are hex, copy ids are ``<version>:<index>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from chat_tui.errors import RetrievalError
from chat_tui.retrieval.chunk_key import dedup_key
from chat_tui.retrieval.milvus_schema import (
    ANCHOR_MAX_BYTES,
    HEADING_MAX_BYTES,
    SOURCE_MAX_BYTES,
    truncate_utf8,
)
from chat_tui.retrieval.types import Chunk

#: What a key looks like (``dedup_key``: 32 hex digits).
_KEY = re.compile(r"[0-9a-f]{32}")
#: Keys per ``key in [...]`` filter.
KEYS_PER_QUERY = 500
_PAGE = 1000
COPY_FIELDS = [
    "key",
    "source",
    "version",
    "idx",
    "heading",
    "line_start",
    "line_end",
    "page",
    "anchor",
    "root",
]


def create_copies_collection(client: Any, name: str) -> None:
    """Create the copies collection (one row per occurrence of a passage stored elsewhere)."""
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=128)
    schema.add_field("key", DataType.VARCHAR, max_length=64)
    schema.add_field("source", DataType.VARCHAR, max_length=SOURCE_MAX_BYTES)
    schema.add_field("version", DataType.VARCHAR, max_length=64)
    for number_field in ("idx", "line_start", "line_end", "page"):
        schema.add_field(number_field, DataType.INT64)
    schema.add_field("heading", DataType.VARCHAR, max_length=HEADING_MAX_BYTES)
    schema.add_field("anchor", DataType.VARCHAR, max_length=ANCHOR_MAX_BYTES)
    schema.add_field("root", DataType.VARCHAR, max_length=SOURCE_MAX_BYTES)
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus requires a vector field
    index = client.prepare_index_params()
    index.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
    index.add_index(field_name="key", index_type="INVERTED")
    client.create_collection(name, schema=schema, index_params=index)


def copy_row(chunk: Chunk, key: str, version: str) -> dict[str, Any]:
    """The copies row of ``chunk`` (an occurrence of passage ``key``) in version ``version``."""
    return {
        "id": f"{version}:{chunk.index}",
        "key": key,
        "source": chunk.source,
        "version": version,
        "idx": chunk.index,
        "heading": truncate_utf8(chunk.heading, HEADING_MAX_BYTES),
        "line_start": -1 if chunk.line_start is None else chunk.line_start,
        "line_end": -1 if chunk.line_end is None else chunk.line_end,
        "page": -1 if chunk.page is None else chunk.page,
        "anchor": truncate_utf8(chunk.anchor, ANCHOR_MAX_BYTES),
        "root": truncate_utf8(chunk.root, SOURCE_MAX_BYTES),
        "unused": [0.0, 0.0],
    }


def keys_filter(keys: Iterable[str]) -> str:
    """``key in [...]`` from keys checked to be ours (never from arbitrary data)."""
    checked = []
    for key in keys:
        if not _KEY.fullmatch(key):
            raise RetrievalError(f"the knowledge base holds a malformed passage key {key[:40]!r}")
        checked.append(f'"{key}"')
    return "key in [" + ", ".join(checked) + "]"


def query_all(
    client: Any, collection: str, expression: str, fields: Sequence[str]
) -> list[dict[str, Any]]:
    """Every row matching ``expression`` (paged: Milvus caps one query at 16,384 rows)."""
    rows: list[dict[str, Any]] = []
    while True:
        batch = client.query(
            collection, filter=expression, output_fields=list(fields), limit=_PAGE, offset=len(rows)
        )
        rows.extend(batch)
        if len(batch) < _PAGE:
            return rows


def rows_by_keys(
    client: Any,
    collection: str,
    keys: Iterable[str],
    fields: Sequence[str],
    also: str = "",
) -> list[dict[str, Any]]:
    """Rows whose ``key`` is one of ``keys`` (and match ``also`` when given)."""
    unique = sorted(set(keys))
    rows: list[dict[str, Any]] = []
    for start in range(0, len(unique), KEYS_PER_QUERY):
        expression = keys_filter(unique[start : start + KEYS_PER_QUERY])
        if also:
            expression = f"({expression}) and ({also})"
        rows.extend(query_all(client, collection, expression, fields))
    return rows


class MissingVectors(RetrievalError):
    """A write would store chunks that came without a vector (they were expected to be copies).

    Nothing was written. ``needed`` is ``(item index, Chunk.index)`` of each such chunk:
    embed them and write again.
    """

    def __init__(self, needed: list[tuple[int, int]]) -> None:
        super().__init__(f"{len(needed)} chunks to store came without a vector")
        self.needed = needed


StoredSplit = tuple[list[Chunk], list["Sequence[float] | None"] | None, list[tuple[Chunk, str]]]


def split_items(
    items: Sequence[tuple[Sequence[Chunk], Sequence[Sequence[float] | None] | None]],
    claimed: set[str],
    dense: bool,
) -> list[StoredSplit]:
    """``(stored chunks, their vectors, (copy, key) pairs)`` per file of one write.

    ``claimed`` holds the keys stored elsewhere (committed files). Of the other
    occurrences of a passage, the first one with a vector is stored (the first one at
    all when ``dense`` is False or none has a vector); the rest are copies.
    """
    keys = [[dedup_key(chunk.text) for chunk in chunks] for chunks, _ in items]
    owner: dict[str, tuple[int, int]] = {}
    for with_vector in (True, False):
        for f, (_, vectors) in enumerate(items):
            for i, key in enumerate(keys[f]):
                has = not dense or (vectors is not None and vectors[i] is not None)
                if has == with_vector and key not in claimed and key not in owner:
                    owner[key] = (f, i)
    result: list[StoredSplit] = []
    for f, (chunks, vectors) in enumerate(items):
        kept: list[Chunk] = []
        kept_vectors: list[Sequence[float] | None] | None = None if vectors is None else []
        copies: list[tuple[Chunk, str]] = []
        for i, (chunk, key) in enumerate(zip(chunks, keys[f], strict=True)):
            if owner.get(key) != (f, i):
                copies.append((chunk, key))
                continue
            kept.append(chunk)
            if kept_vectors is not None and vectors is not None:
                kept_vectors.append(vectors[i])
        result.append((kept, kept_vectors, copies))
    return result


def check_vectors(items: Sequence[tuple[str, str, Sequence[Chunk], Any]]) -> None:
    """Raise ``MissingVectors`` if a chunk to be stored in a dense KB has no vector."""
    needed: list[tuple[int, int]] = []
    for f, (_, _, chunks, vectors) in enumerate(items):
        for i, chunk in enumerate(chunks):
            if vectors is None or vectors[i] is None:
                needed.append((f, chunk.index))
    if needed:
        raise MissingVectors(needed)


def promoted_rows(
    doomed: Sequence[dict[str, Any]],
    copies: Sequence[dict[str, Any]],
    file_hashes: dict[str, str],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Chunk rows that take over passages whose stored rows are ``doomed``, and the copy ids used.

    Args:
        doomed: chunk rows about to be deleted (with ``key``, text, vector...), one per key.
        copies: committed copy rows of those keys in versions that stay.
        file_hashes: ``source -> file hash`` of the copies' files.

    The first copy of each key (by source, then position) becomes a chunk row of its
    own file and version, with the doomed row's text and vector and its own location.
    """
    first: dict[str, dict[str, Any]] = {}
    for row in sorted(copies, key=lambda r: (str(r["source"]), int(r["idx"]))):
        first.setdefault(str(row["key"]), row)
    rows: list[dict[str, Any]] = []
    used: list[str] = []
    for old in doomed:
        key = str(old.get("key", ""))
        copy = first.get(key)
        if copy is None:
            continue
        row = {name: value for name, value in old.items() if name not in ("id", "sparse")}
        row.update({name: copy[name] for name in COPY_FIELDS if name in copy})
        if "anchor" not in old:
            row.pop("anchor", None)
        if "root" not in old:
            row.pop("root", None)
        row["id"] = f"{key}-{int(copy['idx'])}:{copy['version']}"
        row["file_hash"] = file_hashes.get(str(copy["source"]), "")
        rows.append(row)
        used.append(f"{copy['version']}:{int(copy['idx'])}")
    return rows, used


def also_in(
    passages: Sequence[tuple[str, str]],
    copies: Sequence[dict[str, Any]],
    committed: Callable[[Sequence[str]], dict[str, str]],
) -> dict[str, tuple[str, ...]]:
    """``key -> other sources`` of the passages ``(key, source)`` from their copy rows.

    Only copies in committed versions count (``committed``: ``source -> version``).
    """
    versions = committed(sorted({str(row["source"]) for row in copies}))
    sources: dict[str, set[str]] = {}
    for row in copies:
        source = str(row["source"])
        if versions.get(source) == row.get("version"):
            sources.setdefault(str(row["key"]), set()).add(source)
    result: dict[str, tuple[str, ...]] = {}
    for key, own in passages:
        others = sorted(sources.get(key, set()) - {own})
        if others:
            result[key] = tuple(others)
    return result
