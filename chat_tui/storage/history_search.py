"""A full-text index of every message of every session: SQLite FTS5, derived from the files.

Why SQLite: TinyDB has no index, and reading 1,000 session files to answer one query
takes seconds; FTS5 (in the standard library's sqlite3) answers in milliseconds.
The TinyDB session files stay the authority. This file (``history.search.sqlite3``
next to the history directory, which stays all TinyDB JSON) is a cache of them that
anyone may delete: it is rebuilt from the files. Where it cannot be written (a
read-only history), searches use an index in memory, built once per process.

Kept current two ways:

* **On every write** the repository tells the index what changed (a message saved or
  removed, a session cleared or deleted), with the session file's signature before
  and after the write. A change is applied only when the index held the file's
  previous version, so an index that missed a write is never made to look current.
  A failure here is logged and never fails the write.
* **At query time** the sessions directory is scanned (one ``stat`` per file) and
  every file whose signature differs from the one indexed (another process wrote it
  and its index update failed, a crash, an older chat-tui, a deleted index) or that
  the index does not know is read and indexed again first; files gone are dropped.
  So a missing or stale index never loses a result; it costs time once.

Terms are made by :mod:`chat_tui.domain.search_text` (casefold, accents dropped,
CJK as character pairs) and stored space-separated in FTS5 columns with its
``ascii`` tokenizer, which leaves them as they are. The FTS5 table is contentless
(the text is kept once, in ``messages``) with prefix indexes up to 8 characters, so a
word being typed costs no more than a whole one (measured at 50,000 messages: a prefix
AND of two common words, 17 ms without them, 0.2 ms with). Rows come newest-indexed first
(``rowid`` order, which FTS5 walks without sorting): a cold build indexes sessions
oldest first, and a session written since is indexed again at the top.

Several processes may write one history: SQLite's own locking serialises the
transactions (WAL mode), and the index is not durable (``synchronous=OFF``): a crash
can lose its last changes, which the signatures then show as stale.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chat_tui.domain.models import Message, Session
from chat_tui.domain.search_text import fts_query, index_terms, parse_query
from chat_tui.domain.text import clean_text
from chat_tui.storage.atomic import CORRUPT_MARKER, CorruptFileError, is_temp_name
from chat_tui.storage.schema import (
    MESSAGES_TABLE,
    SESSIONS_DIR,
    session_file_name,
    validate_session_file,
)

if TYPE_CHECKING:
    import sqlite3

log = logging.getLogger(__name__)

SEARCH_DB_SUFFIX = ".search.sqlite3"


def search_index_path(history_dir: Path) -> Path:
    """Where the index of ``history_dir`` lives: beside it, ``<name>.search.sqlite3``."""
    history_dir = Path(history_dir)
    return history_dir.with_name(history_dir.name + SEARCH_DB_SUFFIX)


#: Bumped when the tables or the terms change: an index of another version is rebuilt.
INDEX_VERSION = 1
#: However quiet the directory looks, its files are compared this often (a hand edit
#: in place, or a file system whose directory times do not move, is seen by then).
FULL_SCAN_SECONDS = 30.0
#: A directory time at least this far before a scan began vouches for the next query.
STAMP_MARGIN_NS = 1_000_000_000
#: Below this much free space on its disk the index is not written to (a write hook
#: leaves it stale, a search says so): it must never take the space a save needs.
MIN_FREE_BYTES = 32 * 1024 * 1024
#: Session files indexed per transaction during a build (others may write in between).
BUILD_BATCH = 100

_SCHEMA = """
CREATE TABLE files (
    file TEXT PRIMARY KEY,
    sig TEXT NOT NULL,
    session_id TEXT NOT NULL,
    role TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE messages (
    rowid INTEGER PRIMARY KEY,
    file TEXT NOT NULL,
    message_id TEXT NOT NULL,
    speaker TEXT NOT NULL,
    created_at REAL NOT NULL,
    content TEXT NOT NULL
);
CREATE INDEX messages_by_file ON messages (file, message_id);
CREATE VIRTUAL TABLE terms USING fts5 (
    words, chars, tokenize = 'ascii', content = '', prefix = '1 2 3 4 5 6 7 8'
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class IndexedMessage:
    """One message found by a query, with its session's record as indexed."""

    session_id: str
    title: str
    role: str
    session_updated_at: float
    message_id: str
    speaker: str
    created_at: float
    content: str


@dataclass(frozen=True)
class Found:
    """What a query found: the messages (at most ``limit``) and whether there were more."""

    messages: list[IndexedMessage]
    more: bool
    reindexed: int
    """Session files (re)indexed before answering (0 when the index was current)."""


class HistorySearchIndex:
    """The search index of one history directory (thread-safe; opened on first use).

    Args:
        history_dir: the history directory (the one the repository uses).
        memory_fallback: when the index file cannot be opened, index in memory
            (searches do; the repository's write hooks then have nothing to keep).
    """

    def __init__(self, history_dir: Path, *, memory_fallback: bool = False) -> None:
        self.history_dir = Path(history_dir)
        self.path = search_index_path(self.history_dir)
        self.memory_fallback = memory_fallback
        self._in_memory = False
        self._sessions_dir = self.history_dir / SESSIONS_DIR
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._known: dict[str, str] | None = None
        """Session file -> the signature this process last saw indexed (None: not read)."""
        self._dir_stamp: tuple[int, int] | None = None
        self._scanned_at = 0.0

    # -- the database

    def _connect(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        import sqlite3

        try:
            db = self._open(self.path)
        except sqlite3.OperationalError:  # cannot be opened or written here
            if not self.memory_fallback:
                raise
            log.info("search index %s cannot be written; indexing in memory", self.path)
            db = self._open(":memory:")
            self._in_memory = True
        except sqlite3.DatabaseError as error:  # not a database (damaged): it is only a cache
            log.warning("search index %s unusable (%s); rebuilding it", self.path, error)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            db = self._open(self.path)
        self._db = db
        return db

    def _open(self, path: Path | str) -> sqlite3.Connection:
        import sqlite3  # here, not at import: ~15 ms that start-up does not need

        db = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = OFF")
            db.execute("PRAGMA journal_size_limit = 4194304")  # the WAL shrinks back
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != INDEX_VERSION or _unicode_version(db) != unicodedata.unidata_version:
                with _transaction(db):
                    for (name,) in db.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name IN ('files', 'messages', 'terms', 'meta')"
                    ).fetchall():
                        db.execute(f"DROP TABLE {name}")
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            db.execute(statement)
                    db.execute(
                        "INSERT INTO meta VALUES ('unicode', ?)", (unicodedata.unidata_version,)
                    )
                    db.execute(f"PRAGMA user_version = {INDEX_VERSION}")
        except BaseException:
            db.close()
            raise
        return db

    @contextmanager
    def _guarded(self, what: str) -> Iterator[sqlite3.Connection | None]:
        """The connection for a write hook; any failure is logged, never raised."""
        with self._lock:
            db: sqlite3.Connection | None = None
            try:
                if self.has_room():
                    db = self._connect()
            except Exception:  # noqa: BLE001 - the index is a cache: the next query repairs it
                self._failed(what)
            try:
                yield db
            except Exception:  # noqa: BLE001 - likewise
                self._failed(what)

    def has_room(self) -> bool:
        """Whether the index's disk has ``MIN_FREE_BYTES`` free (an in-memory one always)."""
        if self._db is not None and self._in_memory:
            return True
        try:
            st = os.statvfs(self.path.parent)
        except (OSError, AttributeError):  # missing yet, or no statvfs (Windows): try
            return True
        return st.f_bavail * st.f_frsize >= MIN_FREE_BYTES

    def _failed(self, what: str) -> None:
        log.warning("search index: could not %s (repaired at the next search)", what)
        log.debug("search index failure", exc_info=True)
        self._drop_connection()

    def _drop_connection(self) -> None:
        self._known = None
        self._dir_stamp = None
        self._in_memory = False
        if self._db is not None:
            try:
                self._db.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._db = None

    def close(self) -> None:
        """Release the database (it stays on disk)."""
        with self._lock:
            self._drop_connection()

    # -- write hooks (called by the repository, under its history lock)

    def session_stored(self, session: Session, messages: Sequence[Message], signature: str) -> None:
        """A session's file was written whole (created, cleared): index exactly this."""
        with self._guarded("index a session") as db:
            if db is not None:
                with _transaction(db):
                    _replace_file(db, session, messages, signature)

    def record_stored(self, session: Session, before: str, after: str) -> None:
        """Only the session's record changed (title, role, switches)."""
        with self._guarded("index a session record") as db:
            if db is not None:
                with _transaction(db):
                    if _signature(db, session.id) == before:
                        _put_file(db, session, after)

    def message_stored(self, session: Session, message: Message, before: str, after: str) -> None:
        """A message was added or replaced (same id) in the session's file."""
        with self._guarded("index a message") as db:
            if db is not None:
                with _transaction(db):
                    if _signature(db, session.id) == before:
                        file = session_file_name(session.id)
                        _delete_messages(db, file, message.id)
                        _insert_messages(db, file, [message])
                        _put_file(db, session, after)

    def message_removed(self, session: Session, message_id: str, before: str, after: str) -> None:
        """A message was removed from the session's file."""
        with self._guarded("drop a message") as db:
            if db is not None:
                with _transaction(db):
                    if _signature(db, session.id) == before:
                        _delete_messages(db, session_file_name(session.id), message_id)
                        _put_file(db, session, after)

    def sessions_removed(self, session_ids: Iterable[str]) -> None:
        """These sessions' files were deleted."""
        with self._guarded("drop sessions") as db:
            if db is not None:
                with _transaction(db):
                    for session_id in session_ids:
                        _drop_file(db, session_file_name(session_id))

    # -- reading

    def refresh(self) -> int:
        """Index every session file that changed since it was indexed; drop files gone.

        Cheap when nothing changed: one ``stat`` of the sessions directory, whose
        modification time every atomic replace, creation and deletion of a session
        file moves. Otherwise one ``stat`` per file, compared with the signatures
        this process last saw indexed; only the differing ones are looked up in the
        index (another process may have indexed them) and read again.

        Returns:
            How many files were (re)indexed or dropped.

        Raises:
            sqlite3.Error, OSError: the index or the directory cannot be used.
        """
        with self._lock:
            db = self._connect()
            try:
                st = os.stat(self._sessions_dir)
                stamp = (st.st_ino, st.st_mtime_ns)
            except FileNotFoundError:
                stamp = (0, 0)
            scan_started = time.time_ns()
            if (
                self._known is not None
                and stamp == self._dir_stamp
                and time.monotonic() - self._scanned_at < FULL_SCAN_SECONDS
            ):
                return 0
            on_disk = self._scan()
            if self._known is None:
                self._known = dict(db.execute("SELECT file, sig FROM files").fetchall())
            known = self._known
            suspects = {f for f in known if f not in on_disk}
            suspects.update(f for f, sig in on_disk.items() if known.get(f) != sig)
            changed = 0
            if suspects and not self.has_room():
                raise OSError(errno.ENOSPC, "too little free disk space to update the index")
            if suspects:
                changed = self._reindex(db, suspects, on_disk)
            # A change in the same clock tick as this scan could leave the directory's
            # time as it is: only a time well before the scan vouches for the next one.
            settled = stamp[1] < scan_started - STAMP_MARGIN_NS
            self._dir_stamp = stamp if settled else None
            self._scanned_at = time.monotonic()
            return changed

    def _scan(self) -> dict[str, str]:
        """Session file name -> its signature, for every session file in the directory."""
        on_disk: dict[str, str] = {}
        try:
            entries = list(os.scandir(self._sessions_dir))
        except FileNotFoundError:
            return on_disk
        for entry in entries:
            name = entry.name
            if not name.endswith(".json") or is_temp_name(name) or CORRUPT_MARKER in name:
                continue
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue
            on_disk[name] = f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
        return on_disk

    def _reindex(self, db: sqlite3.Connection, suspects: set[str], on_disk: dict[str, str]) -> int:
        """Bring the index in line with the files ``suspects`` names; how many changed."""
        assert self._known is not None
        known = self._known
        indexed: dict[str, str] = {}
        for file in suspects:  # what the index holds now (another process may have done it)
            sig = _signature_of_file(db, file)
            if sig is None:
                known.pop(file, None)
            else:
                known[file] = indexed[file] = sig
        gone = [f for f in indexed if f not in on_disk]
        stale = [f for f in suspects if f in on_disk and indexed.get(f) != on_disk[f]]
        if gone:
            with _transaction(db):
                for file in gone:
                    _drop_file(db, file)
                    known.pop(file, None)
        # Oldest written first, so rows of recently active sessions get higher rowids.
        stale.sort(key=lambda file: int(on_disk[file].split(":")[1]))
        for start in range(0, len(stale), BUILD_BATCH):
            batch = [
                (f, _read_session_file(self._sessions_dir / f))
                for f in stale[start : start + BUILD_BATCH]
            ]
            with _transaction(db):
                for file, loaded in batch:
                    now = _signature_of_file(db, file)
                    if now != indexed.get(file):
                        if now is not None:
                            known[file] = now  # indexed meanwhile by a write hook: keep that
                        continue
                    if loaded is None or session_file_name(loaded[0].id) != file:
                        # Unreadable, or a stray name the repository renames at its next
                        # open: remembered as empty, so it is read again once it changes.
                        _drop_file(db, file)
                        _put_placeholder(db, file, on_disk[file])
                        known[file] = on_disk[file]
                        continue
                    session, messages, signature = loaded
                    _replace_file(db, session, messages, signature)
                    known[file] = signature
        return len(gone) + len(stale)

    def search(self, query: str, role: str | None = None, limit: int = 50) -> Found:
        """The messages matching ``query`` (see :func:`~chat_tui.domain.search_text.parse_query`).

        The index is refreshed from the session files first.

        Raises:
            sqlite3.Error, OSError: the index or the directory cannot be used.
        """
        reindexed = self.refresh()
        terms = parse_query(query)
        if not terms:
            return Found([], False, reindexed)
        sql = (
            "SELECT f.session_id, f.title, f.role, f.updated_at, m.message_id, m.speaker, "
            "m.created_at, m.content FROM terms JOIN messages m ON m.rowid = terms.rowid "
            "JOIN files f ON f.file = m.file WHERE terms MATCH ?"
            + (" AND f.role = ?" if role is not None else "")
            + " ORDER BY terms.rowid DESC LIMIT ?"
        )
        params: tuple[object, ...] = (fts_query(terms),)
        if role is not None:
            params += (role,)
        with self._lock:
            rows = self._connect().execute(sql, (*params, limit + 1)).fetchall()
        found = [IndexedMessage(*row) for row in rows[:limit]]
        return Found(found, len(rows) > limit, reindexed)


# -- statements


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _unicode_version(db: sqlite3.Connection) -> str | None:
    """The Unicode version the index's terms were folded with (None: no index yet)."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'unicode'").fetchone()
    except Exception:  # noqa: BLE001 - no meta table: an index of another version
        return None
    return None if row is None else str(row[0])


def _signature(db: sqlite3.Connection, session_id: str) -> str | None:
    return _signature_of_file(db, session_file_name(session_id))


def _signature_of_file(db: sqlite3.Connection, file: str) -> str | None:
    row = db.execute("SELECT sig FROM files WHERE file = ?", (file,)).fetchone()
    return None if row is None else str(row[0])


def _put_file(db: sqlite3.Connection, session: Session, signature: str) -> None:
    db.execute(
        "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            session_file_name(session.id),
            signature,
            session.id,
            session.role,
            session.title,
            session.created_at,
            session.updated_at,
        ),
    )


def _delete_messages(db: sqlite3.Connection, file: str, message_id: str | None = None) -> None:
    where = "file = ?" + (" AND message_id = ?" if message_id is not None else "")
    params = (file,) if message_id is None else (file, message_id)
    rows = db.execute(f"SELECT rowid, content FROM messages WHERE {where}", params).fetchall()
    if rows:
        # A contentless FTS5 table forgets a row when told the terms it was given, which
        # are made again from the stored text (same rules: same Unicode version, above).
        deletions = []
        for rowid, content in rows:
            terms = index_terms(clean_text(content))
            deletions.append((rowid, terms.words, terms.chars))
        db.executemany(
            "INSERT INTO terms (terms, rowid, words, chars) VALUES ('delete', ?, ?, ?)", deletions
        )
        db.executemany("DELETE FROM messages WHERE rowid = ?", [(r,) for r, _ in rows])


def _insert_messages(db: sqlite3.Connection, file: str, messages: Sequence[Message]) -> None:
    # Row ids chosen here (inside the transaction) so both tables take one executemany.
    first = db.execute("SELECT COALESCE(MAX(rowid), 0) + 1 FROM messages").fetchone()[0]
    rows = []
    terms = []
    for rowid, message in enumerate(messages, start=first):
        rows.append((rowid, file, message.id, message.role, message.created_at, message.content))
        # What is shown is the cleaned text: an escape sequence must not glue words.
        found = index_terms(clean_text(message.content))
        terms.append((rowid, found.words, found.chars))
    db.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.executemany("INSERT INTO terms (rowid, words, chars) VALUES (?, ?, ?)", terms)


def _replace_file(
    db: sqlite3.Connection, session: Session, messages: Sequence[Message], signature: str
) -> None:
    file = session_file_name(session.id)
    _delete_messages(db, file)
    _insert_messages(db, file, messages)
    _put_file(db, session, signature)


def _put_placeholder(db: sqlite3.Connection, file: str, signature: str) -> None:
    db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, '', '', '', 0, 0)", (file, signature))


def _drop_file(db: sqlite3.Connection, file: str) -> None:
    _delete_messages(db, file)
    db.execute("DELETE FROM files WHERE file = ?", (file,))


def _read_session_file(path: Path) -> tuple[Session, list[Message], str] | None:
    """A session file's record, messages (storage order) and the signature of what was read.

    None when it is gone or unreadable (the repository moves a damaged file aside at
    its next open; whatever it writes back has a new signature and is indexed then).
    """
    import json

    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())  # the signature of exactly the bytes read
            raw = handle.read()
        data = json.loads(raw)
        _, session = validate_session_file(data, path)
        docs = sorted(data.get(MESSAGES_TABLE, {}).items(), key=lambda item: int(item[0]))
        messages = [Message.from_dict(doc) for _, doc in docs]
    except (OSError, ValueError, TypeError, CorruptFileError):
        return None
    return session, messages, f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"


__all__ = ["SEARCH_DB_SUFFIX", "search_index_path", "Found", "HistorySearchIndex", "IndexedMessage"]
