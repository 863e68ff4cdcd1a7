"""Reading a history back from disk, repairing what a kill, a bad disk or an old version left.

Why a module of its own: :class:`~chat_tui.storage.tinydb_repo.TinyDBRepository` is the
sessions-and-messages CRUD; this is everything that turns the files it finds into files
it can trust. The index is validated and upgraded from older formats (or rebuilt from
the session files); a session file that is damaged is moved aside (named in
``notices``) with what is readable of it written back, a missing one is recreated
empty, a renamed one gets the name its id calls for. Files are always written whole and
atomically (:mod:`chat_tui.storage.atomic`), so "half-written" only ever means a
leftover temporary file, which opening removes.

The seam: a :class:`Recovery` knows the directory layout, the notices list and an
``announce`` callback (the repository's change log, called before any file changes so
other processes hear of it); it holds no cached state of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from chat_tui.domain.models import Message, Session
from chat_tui.errors import StorageError
from chat_tui.storage.atomic import (
    CORRUPT_MARKER,
    CorruptFileError,
    fsync_directory,
    is_temp_name,
    move_aside,
    read_json,
    storage_error,
)
from chat_tui.storage.schema import (
    CURRENT_SCHEMA_VERSION,
    INDEX_NAME,
    LEGACY_NAME,
    SESSIONS_DIR,
    UPGRADES,
    build_index,
    build_session_file,
    file_signature,
    index_record,
    salvage,
    session_file_name,
    validate_index,
    validate_session_file,
    write_database,
)
from chat_tui.storage.session_file import SessionFile, message_docs
from chat_tui.storage.tinydb_storage import Tables


class Recovery:
    """The history's files, read back and repaired (see the module docstring).

    Args:
        history_dir: the history directory.
        notices: where to say what was repaired (the repository's ``notices``).
        announce: called with the session files about to change, before they do.
    """

    def __init__(
        self, history_dir: Path, notices: list[str], announce: Callable[..., None]
    ) -> None:
        self.history_dir = history_dir
        self.sessions_dir = history_dir / SESSIONS_DIR
        self.index_path = history_dir / INDEX_NAME
        self.notices = notices
        self._announce = announce

    def read_index(self) -> Tables | None:
        """The validated, current-version index, or None when it must be rebuilt."""
        try:
            data = read_json(self.index_path)
            if data is None:
                if not (self.history_dir / LEGACY_NAME).exists():
                    return None
                version = 1
            else:
                version = validate_index(data, self.index_path)
        except CorruptFileError as error:
            self.move_aside(error.path, error.reason)
            return None
        if version > CURRENT_SCHEMA_VERSION:
            raise StorageError(
                f"The history in {self.history_dir} was written by a newer chat-tui "
                f"(format {version}, this one knows {CURRENT_SCHEMA_VERSION}); upgrade chat-tui."
            )
        if version == CURRENT_SCHEMA_VERSION:
            return data  # type: ignore[no-any-return]
        try:
            for step in range(version, CURRENT_SCHEMA_VERSION):
                UPGRADES[step](self.history_dir, self.notices)
        except CorruptFileError as error:
            self.move_aside(error.path, error.reason)
            return None
        except OSError as error:
            raise storage_error("upgrade the history in", self.history_dir, error) from None
        return self.read_index()

    def rebuild_index(self) -> tuple[Tables, list[SessionFile]]:
        """A new index made from the session files (empty for a new history), written.

        Returns:
            The index and the session files opened to make it (the caller keeps them).
        """
        found: list[SessionFile] = []
        for path in self.session_paths():
            loaded = self.load_file(path, fallback=None)
            if loaded is not None:
                found.append(loaded)
        records = [
            index_record(self.record_of(loaded), file_signature(loaded.path)) for loaded in found
        ]
        data = build_index(records)
        try:
            write_database(self.index_path, data)
        except OSError as error:
            raise storage_error("write history file", self.index_path, error) from None
        if found:
            self.notices.append(
                f"Rebuilt the history index from {len(found)} session file(s) "
                f"in {self.history_dir}."
            )
        return data, found

    def scan_sessions_dir(self) -> list[os.DirEntry[str]]:
        try:
            entries = list(os.scandir(self.sessions_dir))
        except OSError as error:
            raise storage_error("read the history directory", self.sessions_dir, error) from None
        return [
            entry
            for entry in entries
            if entry.name.endswith(".json")
            and not is_temp_name(entry.name)
            and CORRUPT_MARKER not in entry.name
            and entry.is_file()
        ]

    def session_paths(self) -> list[Path]:
        return [Path(entry.path) for entry in self.scan_sessions_dir()]

    def path(self, session_id: str) -> Path:
        return self.sessions_dir / session_file_name(session_id)

    @staticmethod
    def record_of(loaded: SessionFile) -> Session:
        """The session record a file holds, with the count it really has."""
        record = loaded.record_table.get(doc_id=loaded.record_doc_id)
        session = Session.from_dict(dict(record) if record else {})
        return replace(session, message_count=loaded.count)

    def load_file(self, path: Path, fallback: Session | None) -> SessionFile | None:
        """Open one session file; a damaged one is moved aside and what is readable kept.

        Args:
            path: the file.
            fallback: the session's index record, used when the file's own is unusable.

        Returns:
            The opened file, or None when nothing in it could be used.
        """
        try:
            data = read_json(path)
            if data is None:
                if fallback is None:
                    return None
                self.notices.append(
                    f"The messages file of session '{fallback.title}' was missing; "
                    "the session is kept with no messages."
                )
                return self.write_new_file(replace(fallback, message_count=0), [])
            record_doc_id, record = validate_session_file(data, path)
            try:
                loaded = SessionFile(path, data, record_doc_id)
            except (TypeError, ValueError) as error:
                raise CorruptFileError(path, "a message has bad values", data) from error
        except CorruptFileError as error:
            kept_session, kept_messages = salvage(error.data)
            self.move_aside(error.path, error.reason, kept=len(kept_messages))
            session = fallback or kept_session
            if session is None and kept_messages:
                session = Session(
                    role="assistant", id=kept_messages[0]["session_id"], title="Recovered chat"
                )
            if session is None:
                return None
            messages = [Message.from_dict(doc) for doc in kept_messages]
            return self.write_new_file(replace(session, message_count=len(messages)), messages)
        expected = self.path(record.id)
        if path != expected:  # a renamed file: give it the name its id calls for
            try:
                if expected.exists():
                    self.move_aside(path, f"a second file for session {record.id}")
                    return None
                self._announce(path, expected)
                os.replace(path, expected)
                fsync_directory(path.parent)
            except OSError as error:
                raise storage_error("rename history file", path, error) from None
            loaded.close()
            return SessionFile(expected, data, record_doc_id)
        return loaded

    def write_new_file(self, session: Session, messages: Sequence[Message]) -> SessionFile:
        path = self.path(session.id)
        data = build_session_file(session, message_docs(list(messages)))
        try:
            self._announce(path)
            write_database(path, data)
        except OSError as error:
            raise storage_error("write history file", path, error) from None
        return SessionFile(path, data)

    def move_aside(self, path: Path, reason: str, kept: int = 0) -> Path:
        try:
            self._announce(path)
            moved = move_aside(path)
        except OSError as error:
            raise storage_error("move aside damaged history file", path, error) from None
        salvaged = f"; kept its {kept} readable message(s)" if kept else ""
        self.notices.append(
            f"History file {path.name} was damaged ({reason}); moved it to {moved.name}{salvaged}."
        )
        return moved


__all__ = ["Recovery"]
