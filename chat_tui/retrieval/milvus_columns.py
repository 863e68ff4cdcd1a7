"""Column-wise inserts of a knowledge store's chunk rows: the ORM's conversion, for big batches.

Why: ``MilvusClient.insert`` takes row dicts and converts them to protobuf row by row,
field by field, in pure Python; in an ingest that conversion was most of the client's
CPU. pymilvus's ORM ``Collection.insert`` also takes the data as a list of columns
(one per schema field, in the schema's order) and converts each column in one go.

Two costs decide when it is worth it:

* The ORM imports pandas (0.24-0.5 s on this machine) on its first insert, where
  :mod:`~chat_tui.retrieval.pymilvus_import` kept it out of ``import pymilvus``. So the
  column path is first taken for an insert of at least ``COLUMN_MIN_ROWS`` rows (an
  ingest's batches), and this module imports nothing of pymilvus until then: a TUI
  that stores one attached file, ``kb search`` and ``ask`` never pay for pandas. Once
  paid, every insert of that inserter goes column-wise: per row of a BM25-only KB
  (client CPU, 1.4k-character chunks) columns take 33 us at 50 rows, 13 us at 500,
  10 us at 1,000, against 120-145 us as rows at any size.
* The ORM keeps its own connections, by alias. Each inserter opens one under an
  alias of its own per ``(uri, token, generation)`` of the store's
  :class:`~chat_tui.retrieval.milvus_connection.MilvusConnection`, so a reconnect of the
  store (a new local server, a restarted one) gives the ORM a fresh connection too, with
  the store's keep-alive settings (see ``KEEPALIVE``).

pymilvus 3.0 marks the ORM deprecated (``PyMilvusDeprecationWarning``, a
``FutureWarning``: "will be removed in PyMilvus 3.1"), and the default warning filters
print FutureWarnings to stderr, over the TUI. The warnings are silenced around our ORM
calls only (``warnings.catch_warnings``, which swaps the process's filters: a
FutureWarning or DeprecationWarning another thread raises in that instant is not shown). Wherever the ORM is missing (a pymilvus without it) or the rows do not
match the collection's schema, the rows go through ``client.insert`` as before:
:attr:`ColumnInserter.fallbacks` counts those, :attr:`ColumnInserter.column_inserts`
and :attr:`ColumnInserter.row_inserts` the inserts of each path.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from chat_tui.retrieval.milvus_connection import KEEPALIVE, MilvusConnection

#: Until the ORM was used once, inserts of fewer rows go through ``client.insert`` (the
#: ORM's first use imports pandas).
COLUMN_MIN_ROWS = 1000

_aliases = itertools.count(1)


@contextmanager
def _orm_quiet() -> Iterator[None]:
    """Silence the ORM's deprecation warnings (FutureWarning/DeprecationWarning) here only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _client_side_errors() -> tuple[type[BaseException], ...]:
    """pymilvus's errors raised before a request is sent (the rows do not fit the schema)."""
    from pymilvus import exceptions

    names = ("DataNotMatchException", "ParamError", "DataTypeNotSupportException")
    return tuple(getattr(exceptions, name) for name in names if hasattr(exceptions, name))


class ColumnInserter:
    """Inserts a store's chunk rows, column-wise when there are enough of them.

    Args:
        connection: the store's connection (its uri, settings and generation name the
            ORM connection; its client is what small inserts and fallbacks use).
        collection: the chunks collection.
    """

    def __init__(self, connection: MilvusConnection, collection: str) -> None:
        self.connection = connection
        self.collection = collection
        #: Inserts sent column-wise through the ORM.
        self.column_inserts = 0
        #: Inserts sent as row dicts through ``client.insert`` (small ones and fallbacks).
        self.row_inserts = 0
        #: Inserts meant for the column path that went through ``client.insert``.
        self.fallbacks = 0
        #: Why the last fallback happened ("" if none did).
        self.fallback_reason = ""
        self._key: tuple[str, str, int] | None = None
        self._alias = ""
        self._orm: Any = None  # the ORM Collection on ``_alias``
        self._fields: tuple[str, ...] = ()
        self._no_orm = False
        #: Whether the ORM was opened once (pandas is imported: columns cost nothing more).
        self._opened = False

    def insert(self, client: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Insert ``rows`` (dicts of one layout) into the collection, on ``client`` if small.

        Raises:
            Exception: what pymilvus raises for a request the server refused or a lost
                connection (the caller's ``MilvusConnection.call`` maps and retries it).
        """
        if not self._no_orm and (self._opened or len(rows) >= COLUMN_MIN_ROWS):
            columns = self._columns(rows)
            if columns is not None:
                try:
                    with _orm_quiet():
                        self._orm.insert(columns)
                except _client_side_errors() as error:
                    # Raised while converting, before anything was sent: the rows go as dicts.
                    self._fall_back(f"the ORM refused the columns: {error}")
                else:
                    self.column_inserts += 1
                    return
        client.insert(self.collection, list(rows))
        self.row_inserts += 1

    def _fall_back(self, reason: str) -> None:
        self.fallbacks += 1
        self.fallback_reason = reason[:200]

    def _columns(self, rows: Sequence[dict[str, Any]]) -> list[list[Any]] | None:
        """The rows as the ORM's columns, or None (counted as a fallback) if they cannot be."""
        if not self._open():
            return None
        first = rows[0]
        if len(first) != len(self._fields) or any(name not in first for name in self._fields):
            self._fall_back(
                f"rows have fields {sorted(first)}, the collection {sorted(self._fields)}"
            )
            return None
        width = len(self._fields)
        if any(len(row) != width for row in rows):
            self._fall_back("rows of different layouts in one insert")
            return None
        try:
            return [[row[name] for row in rows] for name in self._fields]
        except KeyError as error:
            self._fall_back(f"a row lacks the field {error}")
            return None

    def _open(self) -> bool:
        """The ORM collection on this generation's connection; False if there is no ORM."""
        connection = self.connection
        settings = connection.settings.milvus
        # The token the store's client got (milvus_server.milvus_connection): the
        # configured one for a configured server, none for the local server.
        token = (settings.token or "") if settings.uri else ""
        key = (connection.uri, token, connection.generation)
        if self._orm is not None and key == self._key:
            return True
        self.close()
        try:
            from pymilvus import Collection, connections
        except ImportError as error:  # a pymilvus without the ORM (3.1 drops it)
            self._no_orm = True
            self._fall_back(f"pymilvus has no ORM: {error}")
            return False
        self._alias = alias = f"chat_tui_columns_{next(_aliases)}"
        with _orm_quiet():
            connections.connect(alias=alias, uri=key[0], token=token, grpc_options=KEEPALIVE)
            orm = Collection(self.collection, using=alias)
            fields = tuple(
                field.name
                for field in orm.schema.fields
                if not field.is_function_output and not (field.is_primary and field.auto_id)
            )
        self._orm, self._fields, self._key = orm, fields, key
        self._opened = True
        return True

    def close(self) -> None:
        """Close the ORM connection, if any (the next big insert opens one again)."""
        alias, self._alias, self._orm, self._key = self._alias, "", None, None
        if not alias:
            return
        from pymilvus import connections

        try:
            with _orm_quiet():
                connections.disconnect(alias)
        except Exception:  # noqa: BLE001 - already gone with its server
            pass


__all__ = ["COLUMN_MIN_ROWS", "ColumnInserter"]
