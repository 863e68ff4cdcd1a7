"""The on-disk layout of the history, its validation, and upgrades between versions.

Version 2 (current), in the history directory::

    index.json              TinyDB: "_meta" {schema_version}, "sessions" (one record
                            per session: the Session fields + "sig", the stat
                            signature of its file when the record was written)
    sessions/<id>.json      TinyDB: "session" (its own Session record, so the index
                            can be rebuilt) and "messages"

Version 1 (the first prototype): one TinyDB file ``history.json`` with a
"sessions" table and a "messages" table holding every message of every session.

An upgrade is a function ``upgrade_N_to_N+1(history_dir, notices)`` in
:data:`UPGRADES`; the repository applies them in order at open. Each one leaves a
complete version-N+1 layout, writes the index last, and keeps old files (renamed).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chat_tui.domain.models import Message, Session
from chat_tui.storage.atomic import CorruptFileError, fsync_directory, read_json
from chat_tui.storage.tinydb_storage import AtomicCachedStorage, Tables

CURRENT_SCHEMA_VERSION = 2
INDEX_NAME = "index.json"
SESSIONS_DIR = "sessions"
LEGACY_NAME = "history.json"
META_TABLE = "_meta"
SESSIONS_TABLE = "sessions"
SESSION_TABLE = "session"
MESSAGES_TABLE = "messages"

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


def session_file_name(session_id: str) -> str:
    """The file name for a session: its id when that is file-name safe, else a hash."""
    if _SAFE_ID.fullmatch(session_id):
        return f"{session_id}.json"
    return "h-" + hashlib.sha256(session_id.encode("utf-8")).hexdigest()[:40] + ".json"


def file_signature(path: Path) -> str:
    """``inode:mtime_ns:size`` of a file: changes whenever the file is replaced."""
    st = os.stat(path)
    return f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"


def index_record(session: Session, signature: str) -> dict[str, Any]:
    """The index document for ``session``."""
    record = session.to_dict()
    record["sig"] = signature
    return record


def build_index(records: list[dict[str, Any]], version: int = CURRENT_SCHEMA_VERSION) -> Tables:
    """A complete index database."""
    return {
        META_TABLE: {"1": {"schema_version": version}},
        SESSIONS_TABLE: {str(number): record for number, record in enumerate(records, start=1)},
    }


def build_session_file(session: Session, messages: list[dict[str, Any]]) -> Tables:
    """A complete session database (its own record plus its messages)."""
    return {
        SESSION_TABLE: {"1": session.to_dict()},
        MESSAGES_TABLE: {str(number): doc for number, doc in enumerate(messages, start=1)},
    }


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, dict[str, Any]]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise CorruptFileError(path, f"table {name!r} is not an object", data)
    for doc_id, doc in table.items():
        if not doc_id.isdigit() or not isinstance(doc, dict):
            raise CorruptFileError(path, f"table {name!r} has a malformed document", data)
    return table


def _has_text_id(doc: dict[str, Any]) -> bool:
    return isinstance(doc.get("id"), str) and bool(doc["id"])


def validate_index(data: Any, path: Path) -> int:
    """Check an index database's shape.

    Returns:
        Its schema version.

    Raises:
        CorruptFileError: wrong shape.
    """
    if not isinstance(data, dict):
        raise CorruptFileError(path, "not a JSON object")
    meta = _table(data, META_TABLE, path)
    versions = [doc.get("schema_version") for doc in meta.values()]
    if len(versions) != 1 or not isinstance(versions[0], int) or versions[0] < 1:
        raise CorruptFileError(path, "no schema version", data)
    for doc in _table(data, SESSIONS_TABLE, path).values():
        if not _has_text_id(doc) or not isinstance(doc.get("role"), str):
            raise CorruptFileError(path, "a session record has no id or role", data)
    return versions[0]


def validate_session_file(data: Any, path: Path) -> tuple[str, Session]:
    """Check a session database's shape.

    Returns:
        The doc id of its session record and the record.

    Raises:
        CorruptFileError: wrong shape.
    """
    if not isinstance(data, dict):
        raise CorruptFileError(path, "not a JSON object")
    records = _table(data, SESSION_TABLE, path)
    if len(records) != 1:
        raise CorruptFileError(path, "no single session record", data)
    ((doc_id, record),) = records.items()
    if not _has_text_id(record):
        raise CorruptFileError(path, "the session record has no id", data)
    for doc in _table(data, MESSAGES_TABLE, path).values():
        if not _has_text_id(doc):
            raise CorruptFileError(path, "a message has no id", data)
    return doc_id, Session.from_dict(record)


def salvage(data: Any) -> tuple[Session | None, list[dict[str, Any]]]:
    """What can still be used from a malformed session database."""
    if not isinstance(data, dict):
        return None, []
    session: Session | None = None
    records = data.get(SESSION_TABLE)
    if isinstance(records, dict):
        for record in records.values():
            if isinstance(record, dict) and _has_text_id(record):
                session = Session.from_dict(record)
                break
    messages: list[dict[str, Any]] = []
    table = data.get(MESSAGES_TABLE)
    if isinstance(table, dict):
        for doc in table.values():
            if isinstance(doc, dict) and _has_text_id(doc):
                try:
                    messages.append(Message.from_dict(doc).to_dict())
                except (TypeError, ValueError):
                    continue
    return session, messages


def write_database(path: Path, data: Tables, *, durable: bool = True) -> str:
    """Write a whole TinyDB database atomically; returns the file's signature."""
    AtomicCachedStorage(path, data, durable=durable).flush()
    return file_signature(path)


# -- upgrades


def upgrade_1_to_2(history_dir: Path, notices: list[str]) -> None:
    """Split the prototype's single ``history.json`` into per-session files + index.

    Messages whose session record is missing get a "Recovered chat" session, so
    nothing is dropped. ``history.json`` is kept as ``history.json.v1-backup``.

    Raises:
        CorruptFileError: ``history.json`` is unreadable.
    """
    legacy = history_dir / LEGACY_NAME
    data = read_json(legacy)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CorruptFileError(legacy, "not a JSON object")
    old_sessions = _table(data, "sessions", legacy)
    old_messages = _table(data, "messages", legacy)

    by_session: dict[str, list[Message]] = {}
    # Storage order (the old table's doc ids), not ``created_at``: a wall clock that
    # stepped backwards between two turns must not put the answer before its question.
    for _, doc in sorted(old_messages.items(), key=lambda item: int(item[0])):
        message = Message.from_dict(doc)
        by_session.setdefault(message.session_id, []).append(message)
    sessions: dict[str, Session] = {}
    for doc in old_sessions.values():
        if _has_text_id(doc):
            sessions[doc["id"]] = Session.from_dict(doc)
    for session_id, messages in by_session.items():
        if session_id not in sessions:
            first = min(m.created_at for m in messages)
            sessions[session_id] = Session(
                role="assistant", id=session_id, title="Recovered chat", created_at=first
            )

    sessions_dir = history_dir / SESSIONS_DIR
    sessions_dir.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    total = 0
    for session_id, session in sessions.items():
        messages = by_session.get(session_id, [])
        last = max((m.created_at for m in messages), default=session.updated_at)
        upgraded = Session.from_dict(
            {
                **session.to_dict(),
                "message_count": len(messages),
                "updated_at": max(session.updated_at, last, session.created_at),
                "titled": session.titled or session.title not in ("", "New chat"),
            }
        )
        path = sessions_dir / session_file_name(session_id)
        signature = write_database(
            path, build_session_file(upgraded, [m.to_dict() for m in messages])
        )
        records.append(index_record(upgraded, signature))
        total += len(messages)
    write_database(history_dir / INDEX_NAME, build_index(records, version=2))
    backup = history_dir / f"{LEGACY_NAME}.v1-backup"
    os.replace(legacy, backup)
    fsync_directory(history_dir)
    notices.append(
        f"Upgraded the history to format 2 ({len(records)} sessions, {total} messages); "
        f"the old file is kept as {backup.name}."
    )


Upgrade = Callable[[Path, list[str]], None]

UPGRADES: dict[int, Upgrade] = {1: upgrade_1_to_2}
"""``UPGRADES[n]`` turns a version-n layout into version n+1."""
