"""The TinyDB history repository: one file per session plus a small index.

Why this shape: TinyDB rewrites a whole file per write, so one file for all history
makes every save slower as history grows (72-88 ms per insert at 10k messages).
Here a save rewrites one session's file and the index, both kept parsed in memory
and written atomically (see :mod:`chat_tui.storage.tinydb_storage`). Start-up reads
only the index; a session's file is parsed the first time its messages are asked for.

Consistency across the two files: the session file is written first and is the
authority (it holds its own Session record); the index is a cache that also stores
each file's stat signature. At open a directory scan finds files whose signature
differs from the index (a kill between the two writes), files missing from the index
(a kill during create) and index entries without a file (a kill during delete), and
repairs the index from the session files.

Reading damaged, missing or old-format files back is :mod:`chat_tui.storage.recovery`;
the index cache is :mod:`chat_tui.storage.session_index`; this module is the CRUD and
the coordination between processes.

Many processes, one history: every read-modify-write runs under the history's
cross-process lock (:mod:`chat_tui.storage.lock`). On taking it a process first
catches up with what others changed since it last held it (the lock file's change
log names the session files), re-reading those files before it changes anything,
so nobody writes a stale cached copy over another's work. The index is only ever
written from such a caught-up view, so it is a merge of everyone's changes.
:meth:`TinyDBRepository.refresh` runs the same catch-up for a reader that does not
write (a TUI polling for another process's changes).

Order: a session's messages are kept in the order they were stored (TinyDB's
increasing doc ids), not by their timestamps, so a wall clock that steps backwards
cannot reorder a conversation.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path

from chat_tui.domain.models import Message, Session, now
from chat_tui.errors import StorageError
from chat_tui.storage.atomic import (
    CorruptFileError,
    fsync_directory,
    read_json,
    remove_durably,
    remove_temp_files,
    storage_error,
)
from chat_tui.storage.history_search import HistorySearchIndex
from chat_tui.storage.lock import (
    HistoryLock,
    LogState,
    is_loggable,
    lock_path,
    new_log_state,
)
from chat_tui.storage.recovery import Recovery
from chat_tui.storage.schema import (
    INDEX_NAME,
    SESSIONS_DIR,
    file_signature,
    session_file_name,
    validate_index,
)
from chat_tui.storage.session_file import SessionFile
from chat_tui.storage.session_index import SessionIndex
from chat_tui.storage.tinydb_storage import AtomicCachedStorage, Tables

DAY_SECONDS = 86_400.0


class TinyDBRepository:
    """Sessions and messages in TinyDB files under ``history_dir`` (a ``SessionRepository``).

    Opening creates the directory, removes temporary files a killed writer left,
    applies schema upgrades, moves corrupt files aside (noting it in
    :attr:`notices`) and repairs the index. Every method is thread-safe.

    Args:
        history_dir: the history directory (created if missing).
        max_loaded_sessions: how many sessions' messages stay parsed in memory.
        lock_timeout: seconds to wait for another process holding the history lock.

    Raises:
        StorageError: the directory or a file cannot be read or written, or the
            history was written by a newer chat-tui.
    """

    def __init__(
        self,
        history_dir: Path,
        *,
        max_loaded_sessions: int = 64,
        lock_timeout: float = 10.0,
    ) -> None:
        self.history_dir = Path(history_dir)
        self.notices: list[str] = []
        self._sessions_dir = self.history_dir / SESSIONS_DIR
        self._index_path = self.history_dir / INDEX_NAME
        self._lock = threading.RLock()
        self._max_loaded = max(1, max_loaded_sessions)
        self._loaded: OrderedDict[str, SessionFile] = OrderedDict()
        self._index = SessionIndex(self._index_path)
        self._sessions = self._index.sessions  # the same dicts, for reading
        self._signatures = self._index.signatures
        self._closed = False
        self._history_lock = HistoryLock(lock_path(self.history_dir), timeout=lock_timeout)
        self._files = Recovery(self.history_dir, self.notices, self._announce)
        self._log: LogState | None = None
        """The change log as this process last saw (or wrote) it; None: unknown."""
        self._changed_elsewhere: set[str] = set()
        """Sessions other processes changed, not yet reported by ``refresh``."""
        self.search_index = HistorySearchIndex(self.history_dir)
        """The derived full-text index, told of every write (its failures never fail one)."""
        try:
            self._sessions_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise storage_error("create the history directory", self.history_dir, error) from None
        with self._lock, self._history_lock.held():
            try:
                self._log = self._history_lock.read_state()
                self._open()
                if self._log is None:  # start a log (others seeing a new epoch rescan)
                    self._start_log()
            except BaseException:
                self._history_lock.close()
                raise

    # -- opening

    def _open(self) -> None:
        remove_temp_files(self.history_dir)
        remove_temp_files(self._sessions_dir)
        data = self._files.read_index()
        if data is None:
            data = self._rebuild_index()
        self._use_index(data)
        self._reconcile_with_files()

    def _rebuild_index(self) -> Tables:
        """A new index made from the session files (which stay opened, remembered)."""
        data, found = self._files.rebuild_index()
        for loaded in found:
            self._remember(self._files.record_of(loaded).id, loaded)
        return data

    def _use_index(self, data: Tables) -> None:
        self._index.use(data)

    def _reconcile_with_files(self) -> set[str]:
        """Repair the index from what is really in the sessions directory.

        Returns:
            The ids of sessions whose files differed from what this process knew.
        """
        changed: set[str] = set()
        on_disk: dict[str, os.DirEntry[str] | None] = {
            entry.name: entry for entry in self._files.scan_sessions_dir()
        }
        stale: list[str] = []
        for session_id in list(self._sessions):
            found = on_disk.pop(session_file_name(session_id), None)
            if found is None:
                stale.append(session_id)  # deleted by a delete that was cut short
                continue
            st = found.stat()
            if f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}" != self._signatures[session_id]:
                self._loaded_session(session_id, reload=True)
                changed.add(session_id)
        if stale:
            self._drop_from_index(stale)
            changed.update(stale)
        for entry in on_disk.values():  # files the index does not know: adopt them
            if entry is None:
                continue
            adopted = self._adopt(Path(entry.path))
            if adopted is not None:
                changed.add(adopted)
        return changed

    def _adopt(self, path: Path) -> str | None:
        """Take a session file the index does not know into it; its id, or None if unusable."""
        loaded = self._files.load_file(path, fallback=None)
        if loaded is None:
            return None
        session = self._files.record_of(loaded)
        self._put_index(session, file_signature(loaded.path))
        self._remember(session.id, loaded)
        return session.id

    def _remember(self, session_id: str, loaded: SessionFile) -> None:
        self._loaded[session_id] = loaded
        self._loaded.move_to_end(session_id)
        while len(self._loaded) > self._max_loaded:
            _, evicted = self._loaded.popitem(last=False)
            evicted.close()

    def _loaded_session(self, session_id: str, *, reload: bool = False) -> SessionFile:
        """The session's file, opened (parsed from disk the first time)."""
        loaded = self._loaded.get(session_id)
        if loaded is not None and not reload:
            self._loaded.move_to_end(session_id)
            return loaded
        stored = self._sessions[session_id]
        fresh = self._files.load_file(self._files.path(session_id), fallback=stored)
        if fresh is None:  # unusable and nothing to salvage: keep the session, empty
            fresh = self._files.write_new_file(replace(stored, message_count=0), [])
        on_file = self._files.record_of(fresh)
        if on_file.id != session_id:
            on_file = replace(stored, message_count=fresh.count)
        signature = file_signature(fresh.path)
        if on_file != stored or signature != self._signatures.get(session_id):
            self._put_index(on_file, signature)
        self._remember(session_id, fresh)
        return fresh

    # -- the index

    @property
    def _index_storage(self) -> AtomicCachedStorage:
        return self._index.storage

    def _lazy_index(self) -> AbstractContextManager[None]:
        return self._index.lazy()

    def _flush_index(self) -> None:
        self._index.flush()

    def _put_index(self, session: Session, signature: str) -> None:
        self._index.put(session, signature)

    def _drop_from_index(self, session_ids: Iterable[str]) -> None:
        for sid in self._index.drop(session_ids):
            loaded = self._loaded.pop(sid, None)
            if loaded is not None:
                loaded.close()

    # -- other processes

    def _announce(self, *paths: Path) -> None:
        """Log in the change log that these session files are about to change (lock held).

        Written *before* the change, so a process killed between the two cannot leave
        a change the others do not hear of (at worst they re-read an unchanged file).

        Raises:
            OSError: the lock file cannot be written (then nothing was changed).
        """
        stems = [
            p.name.removesuffix(".json")
            for p in paths
            # A stray file under another name is renamed to its id's name, which is logged.
            if p.parent == self._sessions_dir and is_loggable(p.name.removesuffix(".json"))
        ]
        if stems:
            state = (self._log or new_log_state()).advanced(stems)
            self._history_lock.write_state(state)
            self._log = state

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the history lock, caught up with what other processes changed.

        Raises:
            StorageError: closed, or the lock cannot be had.
        """
        with self._lock:
            self._check_open()
            with self._history_lock.held():
                self._catch_up()
                yield

    def _catch_up(self) -> None:
        """Take in what other processes changed since this one last held the lock."""
        state = self._history_lock.read_state()
        mine = self._log
        if state and mine and state.epoch == mine.epoch and state.gen == mine.gen:
            return  # nobody else wrote anything: every cached file is current
        stems = state.changed_since(mine.epoch, mine.gen) if state and mine else None
        # Set first: a repair made while catching up is announced after everyone's changes.
        self._log = state
        with self._index_storage.deferred():  # the index follows at the next index write
            if stems is None:
                changed = self._reconcile_with_files()
            else:
                changed = self._reload_files(stems)
        self._changed_elsewhere |= changed

    def _reload_files(self, stems: Iterable[str]) -> set[str]:
        """Re-read the named session files (changed by others); returns the session ids."""
        by_file = {session_file_name(sid): sid for sid in self._sessions}
        changed: set[str] = set()
        for stem in sorted(stems):
            path = self._sessions_dir / f"{stem}.json"
            session_id = by_file.get(path.name)
            if not path.is_file():
                if session_id is not None:  # deleted (or moved aside) by another process
                    self._drop_from_index([session_id])
                    changed.add(session_id)
                continue
            if session_id is not None:
                self._loaded_session(session_id, reload=True)
                changed.add(session_id)
                continue
            adopted = self._adopt(path)  # created by another process
            if adopted is not None:
                changed.add(adopted)
        return changed

    def _start_log(self) -> None:
        state = new_log_state()
        try:
            self._history_lock.write_state(state)
        except OSError:
            return  # a read-only history: every refresh rescans the signatures
        self._log = state

    # -- guarding writes

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("The chat history is closed; restart chat-tui.")

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Turn OS errors into StorageError and resync the caches with the disk."""
        try:
            yield
        except OSError as error:
            self._resync()
            raise storage_error("save chat history in", self.history_dir, error) from None

    def _resync(self) -> None:
        """After a failed write: forget cached state and read it back from disk."""
        for loaded in self._loaded.values():
            loaded.close()
        self._loaded.clear()
        try:
            data = read_json(self._index_path)
            validate_index(data, self._index_path)
            self._use_index(data)
            with self._index_storage.deferred():  # the disk may still refuse writes
                self._reconcile_with_files()
        except (StorageError, CorruptFileError, OSError):
            pass  # the disk is still failing; the next call reports it

    def _require(self, session_id: str, action: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise StorageError(f"Cannot {action}: that session no longer exists.")
        return session

    # -- SessionRepository

    def list_sessions(self, role: str | None = None) -> list[Session]:
        """Sessions, most recently active first; only ``role``'s when given."""
        with self._lock:
            self._check_open()
            chosen = [s for s in self._sessions.values() if role is None or s.role == role]
        chosen.sort(key=lambda s: (s.updated_at, s.created_at), reverse=True)
        return chosen

    def get_session(self, session_id: str) -> Session | None:
        """One session, or None when it does not exist."""
        with self._lock:
            self._check_open()
            return self._sessions.get(session_id)

    def create_session(self, role: str, title: str = "New chat") -> Session:
        """Create and store an empty session for ``role``."""
        with self._exclusive(), self._writing():
            self._check_open()
            session = Session(role=role, title=title)
            loaded = self._files.write_new_file(session, [])
            self._put_index(session, file_signature(loaded.path))
            self._remember(session.id, loaded)
            self.search_index.session_stored(session, [], self._signatures[session.id])
            return session

    def add_session(self, session: Session, messages: Sequence[Message] = ()) -> Session:
        """Store a whole session as given (an import); never replaces a stored one.

        Raises:
            StorageError: a session with that id is stored already.
        """
        own = [
            m if m.session_id == session.id else replace(m, session_id=session.id) for m in messages
        ]
        stored = replace(session, message_count=len(own))
        with self._exclusive(), self._writing(), self._lazy_index():
            self._check_open()
            if session.id in self._sessions or self._files.path(session.id).exists():
                raise StorageError(f"A session with id {session.id} is stored already.")
            loaded = self._files.write_new_file(stored, own)
            self._put_index(stored, file_signature(loaded.path))
            self._remember(stored.id, loaded)
            return stored

    def update_session(self, session: Session) -> Session:
        """Store changed session fields (title, role, switches); returns what was stored.

        The id, creation time and message count are the stored ones; the last
        activity never goes backwards.
        """
        with self._exclusive(), self._writing():
            self._check_open()
            stored = self._require(session.id, "rename or change the session")
            loaded = self._loaded_session(session.id)
            stored = self._sessions[session.id]
            updated = replace(
                session,
                created_at=stored.created_at,
                message_count=loaded.count,
                updated_at=max(stored.updated_at, session.updated_at),
                current_leaf=stored.current_leaf,  # changed by ``select_leaf`` only
            )
            self._announce(loaded.path)
            before = self._signatures[session.id]
            signature = loaded.store_record(updated)
            self._put_index(updated, signature)
            self.search_index.record_stored(updated, before, signature)
            return updated

    def select_leaf(self, session_id: str, leaf_id: str | None) -> Session:
        """Store which branch of the session is shown (see ``Session.current_leaf``).

        Raises:
            StorageError: the session is not stored.
        """
        with self._exclusive(), self._writing():
            self._check_open()
            self._require(session_id, "switch the branch")
            loaded = self._loaded_session(session_id)
            updated = replace(self._sessions[session_id], current_leaf=leaf_id)
            self._announce(loaded.path)
            signature = loaded.store_record(updated)
            self._put_index(updated, signature)
            return updated

    def delete_session(self, session_id: str) -> None:
        """Remove a session and all its messages (nothing happens when it is unknown)."""
        with self._exclusive(), self._writing():
            self._check_open()
            if session_id not in self._sessions:
                return
            self._announce(self._files.path(session_id))
            remove_durably(self._files.path(session_id))
            self._drop_from_index([session_id])
            self.search_index.sessions_removed([session_id])

    def clear_session(self, session_id: str) -> None:
        """Remove all messages of a session, keeping the session."""
        with self._exclusive(), self._writing():
            self._check_open()
            self._require(session_id, "clear the session")
            loaded = self._loaded_session(session_id)
            cleared = replace(
                self._sessions[session_id],
                message_count=0,
                updated_at=max(self._sessions[session_id].updated_at, now()),
                current_leaf=None,
            )
            self._announce(loaded.path)
            signature = loaded.clear(cleared)
            self._put_index(cleared, signature)
            self.search_index.session_stored(cleared, [], signature)

    def messages(self, session_id: str) -> list[Message]:
        """A session's messages in the order they were stored (empty for an unknown session).

        Served from memory when the session is loaded; see :meth:`refresh` for
        changes made by other processes.
        """
        with self._lock:
            self._check_open()
            if session_id not in self._sessions:
                return []
            cached = self._loaded.get(session_id)
            if cached is not None:
                self._loaded.move_to_end(session_id)
                return list(cached.ordered)
        with self._exclusive(), self._writing():  # a first load may repair files
            if session_id not in self._sessions:
                return []
            with self._index_storage.deferred():  # reading never waits on an index write
                return list(self._loaded_session(session_id).ordered)

    def refresh(self) -> set[str]:
        """Take in changes other processes made to the history; returns the session ids.

        See :meth:`chat_tui.storage.base.SessionRepository.refresh` for the contract.
        Costs one lock and one 4 KiB read when nothing changed.

        Raises:
            StorageError: the history cannot be read, or the lock was held by another
                process for longer than ``lock_timeout``.
        """
        with self._exclusive(), self._writing():
            changed, self._changed_elsewhere = self._changed_elsewhere, set()
            return changed

    def append_message(self, message: Message) -> None:
        """Store a new message; bump its session's last activity and count.

        A message whose id is already stored replaces that one (a retried save).
        """
        with self._exclusive(), self._writing(), self._lazy_index():
            self._check_open()
            self._require(message.session_id, "save the message")
            loaded = self._loaded_session(message.session_id)
            stored = self._sessions[message.session_id]
            if message.id in loaded.doc_ids:
                touched = replace(stored, updated_at=max(stored.updated_at, now()))
                self._announce(loaded.path)
                before = self._signatures[message.session_id]
                signature = loaded.replace(message, touched)
                self._put_index(touched, signature)
                self.search_index.message_stored(touched, message, before, signature)
                return
            bumped = replace(
                stored, message_count=loaded.count + 1, updated_at=max(stored.updated_at, now())
            )
            self._announce(loaded.path)
            before = self._signatures[message.session_id]
            signature = loaded.add(message, bumped)
            self._put_index(bumped, signature)
            self.search_index.message_stored(bumped, message, before, signature)

    def update_message(self, message: Message) -> None:
        """Replace a stored message (same id) with a new value.

        Raises:
            StorageError: the session or the message is not stored.
        """
        with self._exclusive(), self._writing(), self._lazy_index():
            self._check_open()
            self._require(message.session_id, "update the message")
            loaded = self._loaded_session(message.session_id)
            if message.id not in loaded.doc_ids:
                raise StorageError("Cannot update the message: it is no longer stored.")
            stored = self._sessions[message.session_id]
            touched = replace(stored, updated_at=max(stored.updated_at, now()))
            self._announce(loaded.path)
            before = self._signatures[message.session_id]
            signature = loaded.replace(message, touched)
            self._put_index(touched, signature)
            self.search_index.message_stored(touched, message, before, signature)

    def delete_message(self, session_id: str, message_id: str) -> None:
        """Remove one message (nothing happens when it is not stored)."""
        with self._exclusive(), self._writing():
            self._check_open()
            if session_id not in self._sessions:
                return
            loaded = self._loaded_session(session_id)
            if message_id not in loaded.doc_ids:
                return
            shrunk = replace(self._sessions[session_id], message_count=loaded.count - 1)
            self._announce(loaded.path)
            before = self._signatures[session_id]
            signature = loaded.remove(message_id, shrunk)
            self._put_index(shrunk, signature)
            self.search_index.message_removed(shrunk, message_id, before, signature)

    def prune_older_than(self, days: float) -> int:
        """Delete sessions whose last activity is older than ``days``; returns how many.

        Raises:
            ValueError: ``days`` is negative.
        """
        if not days >= 0:
            raise ValueError("days must be zero or more")
        cutoff = now() - days * DAY_SECONDS
        with self._exclusive(), self._writing():
            self._check_open()
            victims = [sid for sid, s in self._sessions.items() if s.updated_at < cutoff]
            if not victims:
                return 0
            self._announce(*(self._files.path(session_id) for session_id in victims))
            for session_id in victims:
                try:
                    os.unlink(self._files.path(session_id))
                except FileNotFoundError:
                    pass
            fsync_directory(self._sessions_dir)
            self._drop_from_index(victims)
            self.search_index.sessions_removed(victims)
            return len(victims)

    def close(self) -> None:
        """Release the files (every write is already on disk); later calls fail."""
        with self._lock:
            if self._closed:
                return
            try:
                with self._exclusive():  # caught up, so the index written is everyone's
                    self._flush_index()
            except (OSError, StorageError):
                pass  # the index is repaired from the session files at the next open
            self._closed = True
            for loaded in self._loaded.values():
                loaded.close()
            self._loaded.clear()
            self._index.close()
            self.search_index.close()
            self._history_lock.close()

    def __enter__(self) -> TinyDBRepository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_repository(history_dir: Path) -> TinyDBRepository:
    """Open (creating if needed) the history in ``history_dir``.

    Raises:
        StorageError: the history cannot be used (one line, for the user).
    """
    return TinyDBRepository(history_dir)


__all__ = ["TinyDBRepository", "open_repository"]
