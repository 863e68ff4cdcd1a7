"""Many processes, one history: real child processes writing one history at once.

Issue 7 item 1: two TUIs, or ``ask --session`` next to a TUI, used to lose 4-5 of 10
messages (each wrote its cached copy over the other's). Here children start writing
at the same moment (each waits for "go") and the test checks what is stored.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from chat_tui.domain.models import Message
from chat_tui.storage.lock import lock_path
from chat_tui.storage.tinydb_repo import TinyDBRepository

from .conftest import load_every_json
from .kill_soak import Child, run_soak, unreadable_files

APPENDS = 100


def _start_together(children: list[Child]) -> None:
    for child in children:
        child.wait_for("ready")
    for child in children:
        child.go()


@pytest.mark.parametrize("writers", [2, 3])
def test_processes_appending_to_one_session_lose_nothing(history_dir: Path, writers: int) -> None:
    with TinyDBRepository(history_dir) as repository:
        session = repository.create_session("assistant")
    tags = [f"p{number}" for number in range(writers)]
    children = [Child("append", history_dir, session.id, tag, str(APPENDS)) for tag in tags]
    _start_together(children)
    for child in children:
        child.wait_for("done")
        assert child.finish(kill=False) == 0, child.stderr()

    load_every_json(history_dir)  # every file parses
    with TinyDBRepository(history_dir) as reopened:
        assert reopened.notices == []
        stored = reopened.messages(session.id)
        assert len(stored) == writers * APPENDS
        assert reopened.get_session(session.id).message_count == writers * APPENDS  # type: ignore[union-attr]
        for tag in tags:  # each process's own order is kept
            own = [int(m.content.split()[1]) for m in stored if m.content.split()[0] == tag]
            assert own == list(range(APPENDS)), tag
        acknowledged = {
            line.split()[2] for c in children for line in c.lines if line.startswith("saved")
        }
        assert acknowledged == {m.id for m in stored}


def test_append_while_another_process_renames_clears_and_deletes(history_dir: Path) -> None:
    with TinyDBRepository(history_dir) as repository:
        target, renamed, cleared, deleted = (
            repository.create_session("assistant", title=name)
            for name in ("target", "renamed", "cleared", "deleted")
        )
        for session in (cleared, deleted):
            for turn in range(3):
                repository.append_message(
                    Message(session_id=session.id, role="user", content=f"{turn}")
                )
    watcher = TinyDBRepository(history_dir)  # a TUI left open the whole time
    try:
        watcher.messages(target.id)
        appender = Child("append", history_dir, target.id, "a", str(APPENDS))
        churner = Child("churn", history_dir, renamed.id, cleared.id, deleted.id, "60")
        _start_together([appender, churner])
        for child in (appender, churner):
            child.wait_for("done")
            assert child.finish(kill=False) == 0, child.stderr()
        own = next(line.split()[1] for line in churner.lines if line.startswith("session "))

        changed = watcher.refresh()
        assert {target.id, renamed.id, cleared.id, deleted.id, own} <= changed
        assert [m.content for m in watcher.messages(target.id)] == [
            f"a {n}" for n in range(APPENDS)
        ]
        assert watcher.get_session(renamed.id).title == "title 59"  # type: ignore[union-attr]
        assert watcher.messages(cleared.id) == []
        assert watcher.get_session(deleted.id) is None
        assert watcher.messages(deleted.id) == []
        assert len(watcher.messages(own)) == 5
        assert watcher.refresh() == set()  # reported once
    finally:
        watcher.close()

    load_every_json(history_dir)
    with TinyDBRepository(history_dir) as reopened:
        assert reopened.notices == []
        sessions = {s.id: s for s in reopened.list_sessions()}
        assert set(sessions) == {target.id, renamed.id, cleared.id, own}
        assert sessions[target.id].message_count == APPENDS
        assert sessions[cleared.id].message_count == 0
        assert sessions[renamed.id].title == "title 59"
        assert [m.content for m in reopened.messages(target.id)] == [
            f"a {n}" for n in range(APPENDS)
        ]


def test_refresh_reports_only_other_processes_changes(history_dir: Path) -> None:
    with TinyDBRepository(history_dir) as first, TinyDBRepository(history_dir) as second:
        session = first.create_session("assistant")
        assert first.refresh() == set()  # its own write is not news to it
        assert second.get_session(session.id) is None  # not seen before a refresh...
        assert second.refresh() == {session.id}  # ...and seen after
        assert second.get_session(session.id) is not None

        message = Message(session_id=session.id, role="user", content="from first")
        first.append_message(message)
        assert second.messages(session.id) == []  # the cached view, until refreshed
        assert second.refresh() == {session.id}
        assert second.messages(session.id) == [message]
        assert second.refresh() == set()

        # A write catches up first, and the catch-up is still reported by refresh.
        first.update_session(replace(session, title="renamed by first"))
        other = second.create_session("coder")
        assert second.get_session(session.id).title == "renamed by first"  # type: ignore[union-attr]
        assert second.refresh() == {session.id}
        assert first.refresh() == {other.id}

        second.delete_session(session.id)
        assert first.refresh() == {session.id}
        assert first.get_session(session.id) is None
        assert [s.id for s in first.list_sessions()] == [other.id]


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"epoch": 3, "gen": "x"}', b"\x00" * 9000])
def test_a_damaged_or_missing_lock_file_costs_a_rescan_not_a_message(
    history_dir: Path, damage: bytes
) -> None:
    with TinyDBRepository(history_dir) as first, TinyDBRepository(history_dir) as second:
        session = first.create_session("assistant")
        second.refresh()
        lock_path(history_dir).write_bytes(damage)
        first.append_message(Message(session_id=session.id, role="user", content="one"))
        assert second.refresh() == {session.id}
        second.append_message(Message(session_id=session.id, role="user", content="two"))
        lock_path(history_dir).unlink()  # deleted under two open repositories
        first.append_message(Message(session_id=session.id, role="user", content="three"))
        second.append_message(Message(session_id=session.id, role="user", content="four"))
        assert first.refresh() == {session.id}
        expected = ["one", "two", "three", "four"]
        assert [m.content for m in first.messages(session.id)] == expected
        assert [m.content for m in second.messages(session.id)] == expected
    assert unreadable_files(history_dir) == []
    with TinyDBRepository(history_dir) as reopened:
        assert [m.content for m in reopened.messages(session.id)] == expected


def test_writers_killed_at_random_instants_lose_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_soak(tmp_path / "history", kills=12, writers=3, seed=7)
    with capsys.disabled():
        print(f"\n{result.summary()}")
    assert result.kills == 12
    assert result.acknowledged > 100  # the writers really wrote
    assert result.lost == []
    assert result.unreadable == []
    assert result.notices == []


def test_a_process_that_fell_behind_the_change_log_rescans(history_dir: Path) -> None:
    with TinyDBRepository(history_dir) as first, TinyDBRepository(history_dir) as second:
        sessions = [first.create_session("assistant") for _ in range(3)]
        second.refresh()
        for turn in range(150):  # more changes than the log's page holds
            session = sessions[turn % 3]
            first.append_message(Message(session_id=session.id, role="user", content=f"{turn}"))
        first.delete_session(sessions[2].id)
        assert second.refresh() == {s.id for s in sessions}
        assert [m.content for m in second.messages(sessions[0].id)] == [
            str(turn) for turn in range(0, 150, 3)
        ]
        assert second.get_session(sessions[2].id) is None


def test_a_stray_file_with_an_odd_name_is_adopted_and_heard_of(history_dir: Path) -> None:
    with TinyDBRepository(history_dir) as first, TinyDBRepository(history_dir) as second:
        session = first.create_session("assistant", title="stray")
        first.append_message(Message(session_id=session.id, role="user", content="kept"))
        second.refresh()
        original = next((history_dir / "sessions").glob("*.json"))
        original.rename(original.with_name("odd name'\n\\x.json"))  # by hand, no log entry
        lock_path(history_dir).write_bytes(b"")  # and the log forgotten: a full rescan
        assert first.refresh() == {session.id}
        assert [m.content for m in first.messages(session.id)] == ["kept"]
        assert [p.name for p in (history_dir / "sessions").iterdir()] == [original.name]
        assert first.refresh() == set()
        assert second.refresh() <= {session.id}  # same content, same file: news or not
        assert [m.content for m in second.messages(session.id)] == ["kept"]
        # A repair made while catching up is logged after the others' changes:
        second.append_message(Message(session_id=session.id, role="user", content="more"))
        assert first.refresh() == {session.id}
        assert [m.content for m in first.messages(session.id)] == ["kept", "more"]


def test_a_repair_made_while_catching_up_is_heard_by_the_others(history_dir: Path) -> None:
    first, second, third = (TinyDBRepository(history_dir) for _ in range(3))
    try:
        damaged, busy = first.create_session("assistant"), first.create_session("coder")
        second.refresh()
        third.refresh()
        first.append_message(Message(session_id=damaged.id, role="user", content="d"))
        first.append_message(Message(session_id=busy.id, role="user", content="first"))
        (history_dir / "sessions" / f"{damaged.id}.json").write_bytes(b"{torn")
        second.refresh()  # catching up, it moves the damaged file aside and rewrites it
        assert any("damaged" in notice for notice in second.notices)
        # third must still hear of first's append, not only of second's repair.
        third.append_message(Message(session_id=busy.id, role="user", content="third"))
        expected = ["first", "third"]
        assert [m.content for m in third.messages(busy.id)] == expected
    finally:
        for repository in (first, second, third):
            repository.close()
    with TinyDBRepository(history_dir) as reopened:
        assert [m.content for m in reopened.messages(busy.id)] == expected
        assert reopened.get_session(damaged.id) is not None


@pytest.mark.parametrize(
    "hostile",
    [
        b'{"epoch": "' + b"e" * 6000 + b'", "gen": 1, "recent": []}',
        b'{"epoch": "ab", "gen": -5, "recent": []}',
        b'{"epoch": "ab", "gen": true, "recent": []}',
        b'{"epoch": "ab", "gen": 2, "recent": ["../../etc/passwd"]}',
        b'["epoch", "gen"]',
    ],
)
def test_a_hostile_lock_file_is_replaced_not_trusted(history_dir: Path, hostile: bytes) -> None:
    with TinyDBRepository(history_dir) as first, TinyDBRepository(history_dir) as second:
        session = first.create_session("assistant")
        second.refresh()
        lock_path(history_dir).write_bytes(hostile)
        first.append_message(Message(session_id=session.id, role="user", content="one"))
        assert second.refresh() == {session.id}
        assert [m.content for m in second.messages(session.id)] == ["one"]
    state = lock_path(history_dir).read_bytes()
    assert len(state) == 4096 and json.loads(state)["gen"] >= 1
