"""A save with 10 and with 10,000 stored messages (behaviour; speed is in bench/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_tui.domain.models import Message
from chat_tui.storage.tinydb_repo import TinyDBRepository
from tests.support.history import import_sessions

from .conftest import make_history


@pytest.mark.parametrize(("sessions", "per_session"), [(1, 10), (50, 200)], ids=["10", "10000"])
def test_save_with_history_of_size(history_dir: Path, sessions: int, per_session: int) -> None:
    repository = TinyDBRepository(history_dir)
    items = make_history(sessions, per_session)
    import_sessions(history_dir, items)
    repository.refresh()
    assert sum(s.message_count for s in repository.list_sessions()) == sessions * per_session
    target = items[-1][0].id
    repository.close()

    reopened = TinyDBRepository(history_dir)
    new = Message(session_id=target, role="user", content="one more")
    reopened.append_message(new)
    assert reopened.messages(target)[-1] == new
    reopened.close()

    final = TinyDBRepository(history_dir)
    assert final.notices == []
    assert final.messages(target)[-1] == new
    assert final.get_session(target).message_count == per_session + 1  # type: ignore[union-attr]
    assert sum(s.message_count for s in final.list_sessions()) == sessions * per_session + 1
    final.close()
