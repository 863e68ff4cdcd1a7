"""The storage contract the services depend on.

The services and the TUI see only this Protocol, so a test or a future backend can
swap the TinyDB implementation without touching them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chat_tui.domain.models import Message, Session


class SessionRepository(Protocol):
    """Sessions and their messages.

    Every write is atomic and durable before the call returns; a write costs at
    most one session's size, never the whole history's.

    Many processes may open one history at once. Every write is a read-modify-write
    under a cross-process lock that first takes in the other processes' changes, so
    no process's write undoes another's. Reads (``list_sessions``, ``get_session``,
    ``messages`` of a loaded session) answer from this process's memory: they show
    this process's own writes at once, and other processes' changes after the next
    write or :meth:`refresh`.
    """

    notices: list[str]
    """One-line notices from opening (e.g. a corrupt file moved aside)."""

    def list_sessions(self, role: str | None = None) -> list[Session]:
        """Sessions, most recently active first; only ``role``'s when given."""
        ...

    def get_session(self, session_id: str) -> Session | None:
        """One session, or None when it does not exist."""
        ...

    def create_session(self, role: str, title: str = "New chat") -> Session:
        """Create and store an empty session for ``role``."""
        ...

    def add_session(self, session: Session, messages: Sequence[Message] = ()) -> Session:
        """Store a whole session exactly as given (an import): its id, times and messages.

        Messages are stored in the order given, each given ``session``'s id; the count is
        theirs. Nothing stored is ever replaced.

        Raises:
            StorageError: a session with that id is stored already.
        """
        ...

    def update_session(self, session: Session) -> Session:
        """Store changed session fields (title, switches); returns what was stored."""
        ...

    def select_leaf(self, session_id: str, leaf_id: str | None) -> Session:
        """Store which branch is shown (``Session.current_leaf``); returns the session.

        ``update_session`` keeps the stored leaf, so a session value held since
        before a switch cannot undo it.
        """
        ...

    def delete_session(self, session_id: str) -> None:
        """Remove a session and all its messages."""
        ...

    def clear_session(self, session_id: str) -> None:
        """Remove all messages of a session, keeping the session."""
        ...

    def messages(self, session_id: str) -> list[Message]:
        """A session's messages in the order they were stored.

        Storage order, not ``created_at`` order: a wall clock that steps backwards
        does not reorder a conversation, and ``update_message`` keeps a message's place.
        """
        ...

    def refresh(self) -> set[str]:
        """Take in what other processes changed; returns the ids of the sessions concerned.

        Contract:

        * The result holds the id of every session that another process created,
          changed (messages, title, switches, cleared) or deleted since this process's
          previous ``refresh`` (or since it opened). It may rarely also hold an id
          whose content turned out unchanged; it never holds a session only this
          process changed.
        * When it returns, ``list_sessions``/``get_session`` and ``messages(id)``
          show the new state: a new session is listed, a deleted one is gone
          (``get_session`` is None, ``messages`` is empty), a changed one returns its
          new messages and record.
        * Cheap when nothing changed (one lock and one 4 KiB read: tens of
          microseconds), so a TUI may call it every second or two, from a worker
          thread (it takes the lock and may parse changed files, so never on the
          event loop). Thread-safe, like every method.

        Raises:
            StorageError: the history cannot be read, or another process held the
                lock too long (one line; the caches are unchanged).
        """
        ...

    def append_message(self, message: Message) -> None:
        """Store a new message and bump the session's last activity and count."""
        ...

    def update_message(self, message: Message) -> None:
        """Replace a stored message (same id) with a new value."""
        ...

    def delete_message(self, session_id: str, message_id: str) -> None:
        """Remove one message (regenerate drops an empty attempt)."""
        ...

    def prune_older_than(self, days: float) -> int:
        """Delete sessions whose last activity is older than ``days``; returns how many."""
        ...

    def close(self) -> None:
        """Release file handles."""
        ...
