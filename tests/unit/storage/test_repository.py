"""Behaviour of every SessionRepository method on real TinyDB files."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from chat_tui.domain.models import Citation, Message, MessageStatus, Session, Usage
from chat_tui.errors import StorageError
from chat_tui.storage.base import SessionRepository
from chat_tui.storage.tinydb_repo import TinyDBRepository, open_repository
from tests.support.history import import_sessions

from .conftest import load_every_json, make_history


def test_open_creates_the_directory_and_satisfies_the_protocol(history_dir: Path) -> None:
    assert not history_dir.exists()
    repository: SessionRepository = open_repository(history_dir)
    assert history_dir.is_dir()
    assert (history_dir / "index.json").is_file()
    assert repository.notices == []
    assert repository.list_sessions() == []
    repository.close()


def test_create_get_and_list_sessions(repo: TinyDBRepository) -> None:
    first = repo.create_session("coder", title="Refactor")
    second = repo.create_session("assistant")
    assert repo.get_session(first.id) == first
    assert second.title == "New chat" and second.message_count == 0
    assert {s.id for s in repo.list_sessions()} == {first.id, second.id}
    assert [s.id for s in repo.list_sessions("coder")] == [first.id]
    assert repo.list_sessions("nobody") == []
    assert repo.get_session("missing") is None


def test_list_is_most_recently_active_first(repo: TinyDBRepository) -> None:
    old, middle, new = (repo.create_session("assistant", title=t) for t in ("old", "mid", "new"))
    repo.update_session(replace(old, updated_at=100.0))  # never goes backwards: ignored
    repo.append_message(Message(session_id=middle.id, role="user", content="bump"))
    order = [s.title for s in repo.list_sessions()]
    assert order[0] == "mid"
    assert set(order) == {"old", "mid", "new"}


def test_append_bumps_count_and_activity_and_keeps_order(repo: TinyDBRepository) -> None:
    session = repo.create_session("assistant")
    first = Message(session_id=session.id, role="user", content="one", created_at=10.0)
    second = Message(session_id=session.id, role="assistant", content="two", created_at=30.0)
    # The wall clock stepped back between two saves: storage order still wins.
    third = Message(session_id=session.id, role="user", content="three", created_at=20.0)
    for message in (first, second, third):
        repo.append_message(message)
    assert [m.content for m in repo.messages(session.id)] == ["one", "two", "three"]
    stored = repo.get_session(session.id)
    assert stored is not None
    assert stored.message_count == 3
    assert stored.updated_at >= session.updated_at


def test_equal_times_keep_insertion_order(repo: TinyDBRepository) -> None:
    session = repo.create_session("assistant")
    for text in "abcde":
        repo.append_message(
            Message(session_id=session.id, role="user", content=text, created_at=5.0)
        )
    assert "".join(m.content for m in repo.messages(session.id)) == "abcde"


def test_every_field_of_a_message_round_trips(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    session = repository.create_session("assistant")
    message = Message(
        session_id=session.id,
        role="assistant",
        content="answer é ✓",
        reasoning="thinking",
        created_at=12.5,
        completed_at=13.0,
        model="m-1",
        usage=Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7),
        status=MessageStatus.STOPPED,
        error="cut",
        citations=(
            Citation(
                source="guide.md",
                heading="Install",
                line_start=3,
                line_end=9,
                score=0.5,
                knowledge_base="docs",
            ),
        ),
    )
    repository.append_message(message)
    repository.close()
    reopened = TinyDBRepository(history_dir)
    assert reopened.messages(session.id) == [message]
    reopened.close()


def test_duplicate_append_replaces_instead_of_adding(repo: TinyDBRepository) -> None:
    session = repo.create_session("assistant")
    message = Message(session_id=session.id, role="user", content="first try")
    repo.append_message(message)
    repo.append_message(replace(message, content="second try"))
    assert [m.content for m in repo.messages(session.id)] == ["second try"]
    assert repo.get_session(session.id).message_count == 1  # type: ignore[union-attr]


def test_append_to_unknown_session_is_a_storage_error(repo: TinyDBRepository) -> None:
    with pytest.raises(StorageError, match="session no longer exists"):
        repo.append_message(Message(session_id="nope", role="user", content="x"))


def test_update_message_replaces_by_id(repo: TinyDBRepository) -> None:
    session = repo.create_session("assistant")
    a = Message(session_id=session.id, role="user", content="q", created_at=1.0)
    b = Message(
        session_id=session.id,
        role="assistant",
        content="partial",
        created_at=2.0,
        status=MessageStatus.STOPPED,
    )
    repo.append_message(a)
    repo.append_message(b)
    repo.update_message(replace(b, content="complete", status=MessageStatus.COMPLETE))
    assert [(m.content, m.status) for m in repo.messages(session.id)] == [
        ("q", MessageStatus.COMPLETE),
        ("complete", MessageStatus.COMPLETE),
    ]
    assert repo.get_session(session.id).message_count == 2  # type: ignore[union-attr]
    with pytest.raises(StorageError, match="no longer stored"):
        repo.update_message(Message(session_id=session.id, role="user", content="ghost"))


def test_update_message_that_moves_in_time_keeps_its_place(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    session = repository.create_session("assistant")
    a = Message(session_id=session.id, role="user", content="a", created_at=1.0)
    b = Message(session_id=session.id, role="user", content="b", created_at=2.0)
    repository.append_message(a)
    repository.append_message(b)
    repository.update_message(replace(a, created_at=3.0))
    assert [m.content for m in repository.messages(session.id)] == ["a", "b"]
    repository.close()
    reopened = TinyDBRepository(history_dir)
    assert [m.content for m in reopened.messages(session.id)] == ["a", "b"]
    reopened.close()


def test_delete_message_updates_the_count(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    session = repository.create_session("assistant")
    messages = [Message(session_id=session.id, role="user", content=str(i)) for i in range(3)]
    for message in messages:
        repository.append_message(message)
    repository.delete_message(session.id, messages[1].id)
    repository.delete_message(session.id, "not-there")  # no error
    repository.delete_message("no-session", messages[0].id)  # no error
    assert [m.content for m in repository.messages(session.id)] == ["0", "2"]
    assert repository.get_session(session.id).message_count == 2  # type: ignore[union-attr]
    repository.close()
    reopened = TinyDBRepository(history_dir)
    assert [m.content for m in reopened.messages(session.id)] == ["0", "2"]
    assert reopened.get_session(session.id).message_count == 2  # type: ignore[union-attr]
    reopened.close()


def test_update_session_keeps_what_storage_owns(repo: TinyDBRepository) -> None:
    session = repo.create_session("assistant")
    repo.append_message(Message(session_id=session.id, role="user", content="hello"))
    stale = replace(
        session,
        title="Greetings",
        titled=True,
        retrieval_enabled=False,
        knowledge_base="docs",
        message_count=99,
        created_at=1.0,
    )
    stored = repo.update_session(stale)
    assert stored.title == "Greetings" and stored.titled
    assert stored.retrieval_enabled is False and stored.knowledge_base == "docs"
    assert stored.message_count == 1
    assert stored.created_at == session.created_at
    assert repo.get_session(session.id) == stored
    with pytest.raises(StorageError):
        repo.update_session(Session(role="assistant", id="unknown"))


def test_clear_session_keeps_the_session(repo: TinyDBRepository) -> None:
    session = repo.create_session("assistant", title="keep me")
    for i in range(4):
        repo.append_message(Message(session_id=session.id, role="user", content=str(i)))
    repo.clear_session(session.id)
    assert repo.messages(session.id) == []
    stored = repo.get_session(session.id)
    assert stored is not None and stored.title == "keep me" and stored.message_count == 0
    repo.append_message(Message(session_id=session.id, role="user", content="after"))
    assert [m.content for m in repo.messages(session.id)] == ["after"]


def test_delete_session_removes_its_file(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    gone = repository.create_session("assistant")
    kept = repository.create_session("assistant")
    repository.append_message(Message(session_id=gone.id, role="user", content="bye"))
    repository.delete_session(gone.id)
    repository.delete_session(gone.id)  # again: no error
    assert repository.get_session(gone.id) is None
    assert repository.messages(gone.id) == []
    assert not (history_dir / "sessions" / f"{gone.id}.json").exists()
    repository.close()
    reopened = TinyDBRepository(history_dir)
    assert [s.id for s in reopened.list_sessions()] == [kept.id]
    reopened.close()


def test_persistence_across_reopen(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    sessions = [repository.create_session("assistant" if i % 2 else "coder") for i in range(4)]
    for i, session in enumerate(sessions):
        for j in range(i + 1):
            repository.append_message(
                Message(session_id=session.id, role="user", content=f"{i}.{j}")
            )
    before = repository.list_sessions()
    contents = {s.id: [m.content for m in repository.messages(s.id)] for s in sessions}
    repository.close()

    files = load_every_json(history_dir)
    assert len(files) == 5  # the index and one file per session

    reopened = TinyDBRepository(history_dir)
    assert reopened.notices == []
    assert reopened.list_sessions() == before
    assert {s.id: [m.content for m in reopened.messages(s.id)] for s in sessions} == contents
    reopened.close()


def test_message_saves_leave_the_index_to_later_and_a_crash_loses_nothing(
    history_dir: Path,
) -> None:
    writer = TinyDBRepository(history_dir)
    quiet, busy = writer.create_session("assistant", "quiet"), writer.create_session("coder")
    index_before = (history_dir / "index.json").read_bytes()
    for j in range(3):
        writer.append_message(Message(session_id=busy.id, role="user", content=f"m{j}"))
    # Saving a message rewrites its session's file only: the index is a cache.
    assert (history_dir / "index.json").read_bytes() == index_before
    expected = writer.list_sessions()
    assert [s.id for s in expected] == [busy.id, quiet.id]

    # No close(): as after a SIGKILL. Another process opening the history repairs the
    # index from the session file and sees every message, count and activity time.
    reader = TinyDBRepository(history_dir)
    assert reader.notices == []
    assert reader.list_sessions() == expected
    assert [m.content for m in reader.messages(busy.id)] == ["m0", "m1", "m2"]
    reader.close()

    writer.close()  # close writes the deferred index
    assert (history_dir / "index.json").read_bytes() != index_before
    assert json.loads((history_dir / "index.json").read_text())  # and it is valid


def test_session_file_holds_its_own_record(repo: TinyDBRepository, history_dir: Path) -> None:
    session = repo.create_session("coder", title="Mine")
    repo.append_message(Message(session_id=session.id, role="user", content="x"))
    data = json.loads((history_dir / "sessions" / f"{session.id}.json").read_text())
    assert data["session"]["1"]["title"] == "Mine"
    assert data["session"]["1"]["message_count"] == 1
    assert len(data["messages"]) == 1


def test_prune_removes_idle_sessions_only(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    (old, old_messages), (recent, recent_messages) = make_history(2, 2, start=1_000.0)
    import_sessions(history_dir, [(old, old_messages)])
    repository.refresh()
    fresh = repository.create_session("assistant")
    assert repository.prune_older_than(30) == 1
    assert repository.prune_older_than(30) == 0
    assert [s.id for s in repository.list_sessions()] == [fresh.id]
    with pytest.raises(ValueError):
        repository.prune_older_than(-1)
    repository.close()
    reopened = TinyDBRepository(history_dir)
    assert [s.id for s in reopened.list_sessions()] == [fresh.id]
    assert not (history_dir / "sessions" / f"{old.id}.json").exists()
    reopened.close()


def test_import_sessions_counts_and_reopens(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    items = make_history(3, 5)
    assert import_sessions(history_dir, items) == 3
    repository.close()
    reopened = TinyDBRepository(history_dir)
    for session, messages in items:
        stored = reopened.get_session(session.id)
        assert stored is not None and stored.message_count == 5
        assert stored.updated_at == messages[-1].created_at
        assert reopened.messages(session.id) == messages
    reopened.close()


def test_odd_session_ids_get_safe_file_names(repo: TinyDBRepository, history_dir: Path) -> None:
    odd = Session(role="assistant", id="../../etc/passwd")
    import_sessions(history_dir, [(odd, [Message(session_id=odd.id, role="user", content="safe")])])
    repo.refresh()
    assert [m.content for m in repo.messages(odd.id)] == ["safe"]
    names = [p.name for p in (history_dir / "sessions").iterdir()]
    assert len(names) == 1 and names[0].startswith("h-")


def test_closed_repository_refuses_calls(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    session = repository.create_session("assistant")
    message = Message(session_id=session.id, role="user", content="late")
    repository.close()
    repository.close()  # twice is fine
    for call in (
        repository.list_sessions,
        lambda: repository.append_message(message),
        lambda: repository.update_message(message),
        lambda: repository.delete_message(session.id, message.id),
    ):
        with pytest.raises(StorageError, match="closed"):
            call()


def test_concurrent_appends_from_threads_lose_nothing(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    sessions = [repository.create_session("assistant") for _ in range(2)]
    start = threading.Barrier(4)

    def writer(worker: int) -> None:
        start.wait()
        for n in range(25):
            repository.append_message(
                Message(session_id=sessions[worker % 2].id, role="user", content=f"{worker}-{n}")
            )

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for session in sessions:
        assert len(repository.messages(session.id)) == 50
        assert repository.get_session(session.id).message_count == 50  # type: ignore[union-attr]
    repository.close()
    reopened = TinyDBRepository(history_dir)
    assert sum(s.message_count for s in reopened.list_sessions()) == 100
    reopened.close()
