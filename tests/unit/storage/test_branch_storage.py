"""Branches on disk: parent links and the shown leaf, old files, other processes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from chat_tui.domain.branches import Branches
from chat_tui.domain.models import FIRST, Message
from chat_tui.storage.tinydb_repo import TinyDBRepository


def test_a_history_without_links_reads_as_one_line(history_dir: Path) -> None:
    # A version-2 file as every chat-tui before branches wrote it: no parent_id keys.
    repository = TinyDBRepository(history_dir)
    session = repository.create_session("assistant")
    for n, role in enumerate(["user", "assistant", "user", "assistant"]):
        repository.append_message(
            Message(session_id=session.id, role=role, content=f"m{n}", id=f"m{n}")  # type: ignore[arg-type]
        )
    repository.close()
    path = history_dir / "sessions" / f"{session.id}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for doc in data["messages"].values():
        del doc["parent_id"]
    del data["session"]["1"]["current_leaf"]
    path.write_text(json.dumps(data), encoding="utf-8")

    reopened = TinyDBRepository(history_dir)
    assert reopened.notices == []
    stored = reopened.messages(session.id)
    assert [m.parent_id for m in stored] == [None] * 4
    tree = Branches(stored)
    assert [m.id for m in tree.path(reopened.get_session(session.id).current_leaf)] == [
        "m0",
        "m1",
        "m2",
        "m3",
    ]
    reopened.close()


def test_links_and_the_shown_leaf_survive_a_reopen(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    session = repository.create_session("assistant")
    q1 = Message(session_id=session.id, role="user", content="q1", parent_id=FIRST)
    a1 = Message(session_id=session.id, role="assistant", content="a1", parent_id=q1.id)
    q1b = Message(session_id=session.id, role="user", content="q1b", parent_id=FIRST)
    for message in (q1, a1, q1b):
        repository.append_message(message)
    selected = repository.select_leaf(session.id, a1.id)
    assert selected.current_leaf == a1.id and selected.message_count == 3
    # A session value held from before the switch (a rename) does not undo it.
    renamed = repository.update_session(replace(session, title="renamed", titled=True))
    assert renamed.current_leaf == a1.id
    repository.close()

    reopened = TinyDBRepository(history_dir)
    again = reopened.get_session(session.id)
    assert again is not None and again.current_leaf == a1.id and again.title == "renamed"
    stored = reopened.messages(session.id)
    assert [(m.content, m.parent_id) for m in stored] == [
        ("q1", FIRST),
        ("a1", q1.id),
        ("q1b", FIRST),
    ]
    assert [m.content for m in Branches(stored).path(again.current_leaf)] == ["q1", "a1"]
    reopened.clear_session(session.id)
    assert reopened.get_session(session.id).current_leaf is None
    reopened.close()


def test_another_process_sees_the_switch(history_dir: Path) -> None:
    first = TinyDBRepository(history_dir)
    second = TinyDBRepository(history_dir)
    session = first.create_session("assistant")
    message = Message(session_id=session.id, role="user", content="q", parent_id=FIRST)
    first.append_message(message)
    assert session.id in second.refresh()
    first.select_leaf(session.id, message.id)
    assert session.id in second.refresh()
    assert second.get_session(session.id).current_leaf == message.id
    first.close()
    second.close()
