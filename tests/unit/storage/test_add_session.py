"""``add_session``: a whole session stored as given (what an import needs), never over another."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_tui.domain.models import Message, Session
from chat_tui.errors import StorageError
from chat_tui.storage.tinydb_repo import TinyDBRepository


def test_a_session_is_stored_with_its_ids_times_and_order(history_dir: Path) -> None:
    session = Session(role="coder", title="Old chat", created_at=100.0, updated_at=200.0)
    messages = [
        Message(session_id="elsewhere", role="user", content="q", created_at=150.0),
        Message(session_id="elsewhere", role="assistant", content="a", created_at=120.0),
    ]
    with TinyDBRepository(history_dir) as repo:
        stored = repo.add_session(session, messages)
        assert stored.message_count == 2 and stored.updated_at == 200.0
    with TinyDBRepository(history_dir) as reopened:  # on disk, not only cached
        assert reopened.get_session(session.id) == stored
        back = reopened.messages(session.id)
    assert [m.id for m in back] == [m.id for m in messages]  # given order, not time order
    assert {m.session_id for m in back} == {session.id}
    assert [m.created_at for m in back] == [150.0, 120.0]


def test_a_stored_session_is_never_replaced(repo: TinyDBRepository) -> None:
    existing = repo.create_session("assistant", title="Mine")
    repo.append_message(Message(session_id=existing.id, role="user", content="keep me"))
    with pytest.raises(StorageError, match="stored already"):
        repo.add_session(Session(role="assistant", id=existing.id, title="Intruder"), [])
    assert repo.get_session(existing.id).title == "Mine"  # type: ignore[union-attr]
    assert [m.content for m in repo.messages(existing.id)] == ["keep me"]


def test_another_process_sees_an_added_session_after_refresh(history_dir: Path) -> None:
    with TinyDBRepository(history_dir) as reader, TinyDBRepository(history_dir) as writer:
        added = writer.add_session(Session(role="assistant", title="Imported"), [])
        assert reader.refresh() == {added.id}
        assert reader.get_session(added.id) == added
