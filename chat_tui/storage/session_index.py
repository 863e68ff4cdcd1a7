"""The history index: every session's record and its file's signature, kept in memory.

Why a module of its own: the index (``index.json``) is a cache of the session files,
which are the authority (:mod:`chat_tui.storage.tinydb_repo`); listing sessions reads
only it, and opening repairs it from the files' signatures. Keeping it apart keeps the
repository about sessions and messages, and the one cost that grows with the number of
sessions (rewriting this file) in one place: message saves defer it (``lazy``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tinydb import TinyDB
from tinydb.table import Table

from chat_tui.domain.models import Session
from chat_tui.storage.schema import SESSIONS_TABLE, index_record
from chat_tui.storage.tinydb_storage import AtomicCachedStorage, Tables

#: Longest a message save leaves the index unwritten (see ``SessionIndex.lazy``).
INDEX_FLUSH_SECONDS = 30.0


class SessionIndex:
    """The index file through TinyDB, with the sessions and signatures it holds.

    Args:
        path: the index file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sessions: dict[str, Session] = {}
        """Session id -> record (the dict is kept, cleared and refilled in place)."""
        self.signatures: dict[str, str] = {}
        """Session id -> the stat signature of its file when last known current."""
        self._doc_ids: dict[str, int] = {}
        self._db: TinyDB | None = None
        self._flushed_at = time.monotonic()

    @property
    def is_open(self) -> bool:
        """Whether an index is in use (not before ``use`` nor after ``close``)."""
        return self._db is not None

    @property
    def _table(self) -> Table:
        assert self._db is not None
        return self._db.table(SESSIONS_TABLE)

    @property
    def storage(self) -> AtomicCachedStorage:
        """The index's storage (``deferred()`` holds its writes back)."""
        assert self._db is not None
        return self._db.storage  # type: ignore[return-value]

    def use(self, data: Tables) -> None:
        """Take ``data`` (a validated index) as the index; a duplicate record is dropped."""
        if self._db is not None:
            self._db.close()
        self._db = TinyDB(self.path, initial=data, durable=False, storage=AtomicCachedStorage)
        self.sessions.clear()
        self.signatures.clear()
        self._doc_ids.clear()
        for doc_id, record in data.get(SESSIONS_TABLE, {}).items():
            session = Session.from_dict(record)
            previous = self._doc_ids.get(session.id)
            if previous is not None:  # a duplicate: keep one record, drop the other
                self._table.remove(doc_ids=[previous])
            self.sessions[session.id] = session
            self.signatures[session.id] = str(record.get("sig", ""))
            self._doc_ids[session.id] = int(doc_id)

    @contextmanager
    def lazy(self) -> Iterator[None]:
        """Message saves: the session file is written now, the index by the first save
        ``INDEX_FLUSH_SECONDS`` after the last index write (and by any session-level change
        and by ``close``).

        The index is a cache of the session files (the repository repairs it at open
        from their signatures), and rewriting it is the only part of a save that grows
        with the number of sessions: ~2 of 5.5 ms per save with 1,000 sessions.
        """
        if self._db is None:  # closed: the body's _check_open says so
            yield
            return
        with self.storage.deferred():
            yield
        if time.monotonic() - self._flushed_at >= INDEX_FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write what is pending (nothing happens when nothing is)."""
        if self._db is not None:
            self.storage.flush_pending()
        self._flushed_at = time.monotonic()

    def put(self, session: Session, signature: str) -> None:
        """Store or replace ``session``'s record with its file's signature."""
        record = index_record(session, signature)
        doc_id = self._doc_ids.get(session.id)
        if doc_id is None:
            self._doc_ids[session.id] = self._table.insert(record)
        else:
            self._table.update(record, doc_ids=[doc_id])
        self.sessions[session.id] = session
        self.signatures[session.id] = signature

    def drop(self, session_ids: Iterable[str]) -> list[str]:
        """Remove these sessions' records; returns the ids that were there."""
        ids = [sid for sid in session_ids if sid in self._doc_ids]
        if ids:
            self._table.remove(doc_ids=[self._doc_ids[sid] for sid in ids])
        for sid in ids:
            del self._doc_ids[sid]
            self.sessions.pop(sid, None)
            self.signatures.pop(sid, None)
        return ids

    def close(self) -> None:
        """Drop the TinyDB handle (pending writes are the caller's to ``flush`` first)."""
        if self._db is not None:
            self._db.close()
            self._db = None


__all__ = ["INDEX_FLUSH_SECONDS", "SessionIndex"]
