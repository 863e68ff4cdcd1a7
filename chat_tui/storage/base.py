"""The storage contract the services depend on.

The services and the TUI see only this Protocol, so a test or a future backend can
swap the TinyDB implementation without touching them.
"""

from __future__ import annotations

from typing import Protocol

from chat_tui.domain.models import Message, Session


class SessionRepository(Protocol):
    """Sessions and their messages.

    Every write is atomic and durable before the call returns; a write costs at
    most one session's size, never the whole history's.
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

    def update_session(self, session: Session) -> Session:
        """Store changed session fields (title, switches); returns what was stored."""
        ...

    def delete_session(self, session_id: str) -> None:
        """Remove a session and all its messages."""
        ...

    def clear_session(self, session_id: str) -> None:
        """Remove all messages of a session, keeping the session."""
        ...

    def messages(self, session_id: str) -> list[Message]:
        """A session's messages, oldest first."""
        ...

    def append_message(self, message: Message) -> None:
        """Store a new message and bump the session's last activity and count."""
        ...

    def update_message(self, message: Message) -> None:
        """Replace a stored message (same id) with a new value."""
        ...

    def delete_message(self, session_id: str, message_id: str) -> None:
        """Remove one message (used by regenerate)."""
        ...

    def prune_older_than(self, days: float) -> int:
        """Delete sessions whose last activity is older than ``days``; returns how many."""
        ...

    def close(self) -> None:
        """Release file handles."""
        ...
