"""Bulk-loading a history for tests and benchmarks: whole session files in one go.

Why here and not in the repository: only tests and benchmarks build histories of
thousands of messages with chosen ids and times, and the app never needs to. This
writes the files the way another chat-tui process would: under the history lock,
announced in the change log first, so a repository already open on the directory
takes them in at its next catch-up (``refresh()`` or any write), and one opened later
adopts them at open. Each file is written once without its own fsync; then only the
files written here (and their directory) are synced, not the whole system.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from chat_tui.domain.models import Message, Session
from chat_tui.storage.atomic import fsync_directory
from chat_tui.storage.lock import HistoryLock, lock_path, new_log_state
from chat_tui.storage.schema import (
    SESSIONS_DIR,
    build_session_file,
    session_file_name,
    write_database,
)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def import_sessions(history_dir: Path, items: Iterable[tuple[Session, Sequence[Message]]]) -> int:
    """Store whole sessions (a session whose id is stored already is replaced).

    Messages are given their session's id; a session's last activity is at least its
    last message's time, and its count is the number of messages given.

    Args:
        history_dir: the history directory (created if missing).
        items: ``(session, messages)`` pairs, messages in conversation order.

    Returns:
        How many sessions were stored.
    """
    sessions_dir = Path(history_dir) / SESSIONS_DIR
    sessions_dir.mkdir(parents=True, exist_ok=True)
    complete: list[tuple[Session, list[Message]]] = []
    for session, messages in items:
        own = [
            m if m.session_id == session.id else replace(m, session_id=session.id) for m in messages
        ]
        last = max((m.created_at for m in own), default=session.updated_at)
        complete.append(
            (
                replace(session, message_count=len(own), updated_at=max(session.updated_at, last)),
                own,
            )
        )
    lock = HistoryLock(lock_path(Path(history_dir)))
    try:
        with lock.held():
            names = [session_file_name(session.id) for session, _ in complete]
            state = lock.read_state() or new_log_state()
            lock.write_state(state.advanced([name.removesuffix(".json") for name in names]))
            for (session, messages), name in zip(complete, names, strict=True):
                data = build_session_file(session, [m.to_dict() for m in messages])
                write_database(sessions_dir / name, data, durable=False)
            for name in names:
                _fsync(sessions_dir / name)
            fsync_directory(sessions_dir)
    finally:
        lock.close()
    return len(complete)


__all__ = ["import_sessions"]
