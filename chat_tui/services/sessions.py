"""Sessions for a front end that must never wait on the disk.

The TUI's event loop draws frames and echoes keys; a write that fsyncs, or reading
and parsing a long session file, would freeze it for as long as the disk takes.
So every repository call a front end needs is an async method here that runs the
storage work in a thread, and the TUI talks to this class, never to the repository.

It also keeps *drafts*: a new session (ctrl+n, a role with no sessions yet) exists
only in memory until its first message is saved, so no empty "New chat" is left
behind in the history.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from chat_tui.domain.branches import Branches, Conversation
from chat_tui.domain.models import Message, Session
from chat_tui.storage.base import SessionRepository


class SessionService:
    """Async, thread-backed access to sessions, plus unsaved drafts.

    Args:
        repository: where sessions and messages live.
    """

    def __init__(self, repository: SessionRepository) -> None:
        self.repository = repository
        self._drafts: dict[str, Session] = {}

    # -- drafts

    def draft(self, role: str) -> Session:
        """A new, empty session for ``role`` that is stored with its first message.

        A front end shows one session at a time, so an earlier unused draft is dropped.
        """
        session = Session(role=role)
        self._drafts = {session.id: session}
        return session

    def is_draft(self, session: Session | str) -> bool:
        """True when the session exists only in memory (nothing stored yet)."""
        session_id = session if isinstance(session, str) else session.id
        return session_id in self._drafts

    def store_draft(self, session_id: str) -> Session:
        """Store a draft as a real session (blocking: call it from a thread).

        Returns:
            The stored session, with the draft's title and switches; its id is the
            repository's, not the draft's.
        """
        draft = self._drafts[session_id]
        stored = self.repository.create_session(draft.role)
        changed = replace(
            stored,
            title=draft.title,
            titled=draft.titled,
            knowledge_base=draft.knowledge_base,
            retrieval_enabled=draft.retrieval_enabled,
        )
        if changed != stored:
            stored = self.repository.update_session(changed)
        del self._drafts[session_id]
        return stored

    # -- reads

    async def list_sessions(self, role: str | None = None) -> list[Session]:
        """Stored sessions, most recently active first (``role``'s only when given)."""
        return await asyncio.to_thread(self.repository.list_sessions, role)

    async def get(self, session_id: str) -> Session | None:
        """A stored session or a draft, or None when it does not exist."""
        if session_id in self._drafts:
            return self._drafts[session_id]
        return await asyncio.to_thread(self.repository.get_session, session_id)

    async def messages(self, session_id: str) -> list[Message]:
        """A session's messages, oldest first (read and parsed in a thread)."""
        if session_id in self._drafts:
            return []
        return await asyncio.to_thread(self.repository.messages, session_id)

    async def conversation(self, session_id: str) -> Conversation:
        """The branch shown of a session and its messages' versions (read in a thread)."""
        if session_id in self._drafts:
            return Conversation.of([], None)
        return await asyncio.to_thread(self._conversation, session_id)

    def _conversation(self, session_id: str) -> Conversation:
        session = self.repository.get_session(session_id)
        messages = self.repository.messages(session_id)
        return Conversation.of(messages, session.current_leaf if session else None)

    # -- writes

    async def switch_branch(self, session_id: str, message_id: str, step: int) -> Session | None:
        """Show another version of a message (``step`` -1: the one before, 1: after).

        The other version is followed through its newest replies, and that choice is
        stored. Returns the session as stored, or None when there is no version that
        way (or the session is a draft or gone).
        """
        if session_id in self._drafts:
            return None
        return await asyncio.to_thread(self._switch_branch, session_id, message_id, step)

    def _switch_branch(self, session_id: str, message_id: str, step: int) -> Session | None:
        if self.repository.get_session(session_id) is None:
            return None
        leaf = Branches(self.repository.messages(session_id)).switched(message_id, step)
        if leaf is None:
            return None
        return self.repository.select_leaf(session_id, leaf)

    async def show_version_of(self, session_id: str, message_id: str) -> Session | None:
        """The session, with the branch through ``message_id`` shown (a search hit may be
        an older version of a message); None when the session is gone."""
        if session_id in self._drafts:
            return self._drafts[session_id]
        return await asyncio.to_thread(self._show_version_of, session_id, message_id)

    def _show_version_of(self, session_id: str, message_id: str) -> Session | None:
        session = self.repository.get_session(session_id)
        if session is None:
            return None
        tree = Branches(self.repository.messages(session_id))
        if message_id not in tree or any(
            m.id == message_id for m in tree.path(session.current_leaf)
        ):
            return session
        return self.repository.select_leaf(session_id, tree.newest_leaf(message_id))

    async def update(self, session: Session) -> Session:
        """Store changed fields (title, knowledge base, switches); a draft stays a draft."""
        if session.id in self._drafts:
            self._drafts[session.id] = session
            return session
        return await asyncio.to_thread(self.repository.update_session, session)

    async def rename(self, session: Session, title: str) -> Session:
        return await self.update(replace(session, title=title, titled=True))

    async def set_retrieval(self, session: Session, enabled: bool) -> Session:
        return await self.update(replace(session, retrieval_enabled=enabled))

    async def set_knowledge_base(self, session: Session, name: str) -> Session:
        return await self.update(replace(session, knowledge_base=name))

    async def delete(self, session_id: str) -> None:
        if self._drafts.pop(session_id, None) is not None:
            return
        await asyncio.to_thread(self.repository.delete_session, session_id)

    async def clear(self, session_id: str) -> Session | None:
        """Remove a session's messages; returns the session as now stored."""
        if session_id in self._drafts:
            return self._drafts[session_id]
        await asyncio.to_thread(self.repository.clear_session, session_id)
        return await asyncio.to_thread(self.repository.get_session, session_id)

    # -- other processes

    async def external_changes(self) -> set[str]:
        """Pick up what other processes wrote to the history.

        Runs the repository's ``refresh()`` (which re-reads the files other processes
        changed) in a thread.

        Returns:
            The ids of the sessions another process created, changed or deleted since
            the previous call; never one only this process changed.
        """
        return await asyncio.to_thread(self.repository.refresh)


__all__ = ["SessionService"]
