"""Damaged, missing, foreign and unreadable history files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chat_tui.domain.models import Message
from chat_tui.errors import StorageError
from chat_tui.storage.tinydb_repo import TinyDBRepository
from tests.support.history import import_sessions

from .conftest import load_every_json, make_history


def _history_with_two_sessions(history_dir: Path) -> tuple[str, str]:
    repository = TinyDBRepository(history_dir)
    items = make_history(2, 3)
    import_sessions(history_dir, items)
    repository.close()
    return items[0][0].id, items[1][0].id


def _aside(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if ".corrupt-" in p.name)


@pytest.mark.parametrize(
    "damage",
    [
        b'{"_meta": {"1": {"schema_ver',
        b"",
        b"[1, 2, 3]",
        b'{"_meta": {"1": {}}}',
        b'{"_meta": {"1": {"schema_version": 2}}, "sessions": {"1": {"title": "no id"}}}',
    ],
    ids=["truncated", "empty", "not-an-object", "no-version", "record-without-id"],
)
def test_corrupt_index_is_moved_aside_and_rebuilt(history_dir: Path, damage: bytes) -> None:
    first, second = _history_with_two_sessions(history_dir)
    (history_dir / "index.json").write_bytes(damage)

    repository = TinyDBRepository(history_dir)
    aside = _aside(history_dir)
    assert len(aside) == 1 and aside[0].read_bytes() == damage
    assert any("index.json was damaged" in n and aside[0].name in n for n in repository.notices)
    assert any("Rebuilt the history index from 2 session file(s)" in n for n in repository.notices)
    assert {s.id for s in repository.list_sessions()} == {first, second}
    assert [m.content for m in repository.messages(first)] == [
        "message 0 of chat 0",
        "message 1 of chat 0",
        "message 2 of chat 0",
    ]
    assert repository.get_session(second).message_count == 3  # type: ignore[union-attr]
    assert repository.get_session(first).title == "Chat 0"  # type: ignore[union-attr]
    repository.close()

    again = TinyDBRepository(history_dir)
    assert again.notices == []
    again.close()


def test_missing_index_is_rebuilt_from_session_files(history_dir: Path) -> None:
    first, second = _history_with_two_sessions(history_dir)
    (history_dir / "index.json").unlink()
    repository = TinyDBRepository(history_dir)
    assert {s.id for s in repository.list_sessions()} == {first, second}
    assert len(repository.notices) == 1 and "Rebuilt" in repository.notices[0]
    repository.close()


def test_corrupt_session_file_is_moved_aside_others_intact(history_dir: Path) -> None:
    first, second = _history_with_two_sessions(history_dir)
    damaged = history_dir / "sessions" / f"{first}.json"
    damaged.write_text('{"session": {"1": {"id": "', encoding="utf-8")

    repository = TinyDBRepository(history_dir)
    aside = _aside(history_dir / "sessions")
    assert len(aside) == 1 and aside[0].name.startswith(f"{first}.json.corrupt-")
    assert len(repository.notices) == 1 and f"{first}.json was damaged" in repository.notices[0]
    kept = repository.get_session(first)
    assert kept is not None and kept.title == "Chat 0" and kept.message_count == 0
    assert repository.messages(first) == []
    assert len(repository.messages(second)) == 3
    repository.append_message(Message(session_id=first, role="user", content="fresh start"))
    repository.close()

    again = TinyDBRepository(history_dir)
    assert again.notices == []
    assert [m.content for m in again.messages(first)] == ["fresh start"]
    again.close()


def test_badly_shaped_session_file_keeps_its_readable_messages(history_dir: Path) -> None:
    first, _ = _history_with_two_sessions(history_dir)
    path = history_dir / "sessions" / f"{first}.json"
    data = json.loads(path.read_text())
    data["messages"]["2"] = ["not", "a", "message"]
    path.write_text(json.dumps(data))

    repository = TinyDBRepository(history_dir)
    assert "kept its 2 readable message(s)" in repository.notices[0]
    assert [m.content for m in repository.messages(first)] == [
        "message 0 of chat 0",
        "message 2 of chat 0",
    ]
    assert repository.get_session(first).message_count == 2  # type: ignore[union-attr]
    repository.close()


def test_damage_found_on_first_lazy_load(history_dir: Path) -> None:
    first, _ = _history_with_two_sessions(history_dir)
    path = history_dir / "sessions" / f"{first}.json"
    repository = TinyDBRepository(history_dir)
    assert repository.notices == []
    stat = path.stat()
    path.write_bytes(b"x" * stat.st_size)  # same size...
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ...same time: not noticed at open
    assert repository.messages(first) == []
    assert len(repository.notices) == 1 and "damaged" in repository.notices[0]
    assert len(_aside(history_dir / "sessions")) == 1
    repository.close()


def test_orphan_and_stale_files_are_reconciled(history_dir: Path) -> None:
    first, second = _history_with_two_sessions(history_dir)
    index = json.loads((history_dir / "index.json").read_text())
    # As if killed after writing a new session's file but before the index.
    for doc_id, record in list(index["sessions"].items()):
        if record["id"] == second:
            del index["sessions"][doc_id]
        else:
            record["message_count"] = 1  # stale counter
            record["sig"] = "0:0:0"
    (history_dir / "index.json").write_text(json.dumps(index))
    # As if killed after deleting a session's file but before the index.
    ghost = dict(next(iter(index["sessions"].values())), id="ghost", sig="1:1:1")
    index["sessions"]["99"] = ghost
    (history_dir / "index.json").write_text(json.dumps(index))

    repository = TinyDBRepository(history_dir)
    assert repository.notices == []
    assert {s.id for s in repository.list_sessions()} == {first, second}
    assert repository.get_session(first).message_count == 3  # type: ignore[union-attr]
    repository.close()
    saved = json.loads((history_dir / "index.json").read_text())
    assert {r["id"] for r in saved["sessions"].values()} == {first, second}


def test_leftover_temp_files_are_removed(history_dir: Path) -> None:
    _history_with_two_sessions(history_dir)
    leftover = history_dir / ".index.json.tmp-123-456"
    leftover.write_text('{"half": ')
    (history_dir / "sessions" / ".abc.json.tmp-1-2").write_text("")
    repository = TinyDBRepository(history_dir)
    assert repository.notices == []
    assert not leftover.exists()
    load_every_json(history_dir)  # everything left parses
    repository.close()


def test_newer_format_is_refused(history_dir: Path) -> None:
    history_dir.mkdir(parents=True)
    original = '{"_meta": {"1": {"schema_version": 99}}, "sessions": {}}'
    (history_dir / "index.json").write_text(original)
    with pytest.raises(StorageError, match="newer chat-tui") as caught:
        TinyDBRepository(history_dir)
    assert "\n" not in str(caught.value)
    assert (history_dir / "index.json").read_text() == original


def test_directory_in_place_of_the_index_is_a_clear_error(history_dir: Path) -> None:
    (history_dir / "index.json").mkdir(parents=True)
    with pytest.raises(StorageError) as caught:
        TinyDBRepository(history_dir)
    message = str(caught.value)
    assert "index.json" in message and "Traceback" not in message and "\n" not in message
    assert (history_dir / "index.json").is_dir()  # nothing moved or deleted


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_index_is_a_permission_error(history_dir: Path) -> None:
    _history_with_two_sessions(history_dir)
    index = history_dir / "index.json"
    before = index.read_bytes()
    index.chmod(0)
    try:
        with pytest.raises(StorageError, match="permission denied"):
            TinyDBRepository(history_dir)
    finally:
        index.chmod(0o600)
    assert index.read_bytes() == before


def test_failed_write_raises_and_keeps_memory_in_step_with_disk(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    session = repository.create_session("assistant")
    repository.append_message(Message(session_id=session.id, role="user", content="kept"))
    # A directory where the temp file must go makes the next session-file write fail.
    blocker = history_dir / "sessions" / f".{session.id}.json.tmp-{os.getpid()}-"
    import threading

    blocker = blocker.with_name(blocker.name + str(threading.get_ident()))
    blocker.mkdir()
    with pytest.raises(StorageError, match="Cannot save chat history") as caught:
        repository.append_message(Message(session_id=session.id, role="user", content="lost"))
    assert "\n" not in str(caught.value)
    assert [m.content for m in repository.messages(session.id)] == ["kept"]
    assert repository.get_session(session.id).message_count == 1  # type: ignore[union-attr]
    blocker.rmdir()
    repository.append_message(Message(session_id=session.id, role="user", content="works again"))
    repository.close()
    again = TinyDBRepository(history_dir)
    assert [m.content for m in again.messages(session.id)] == ["kept", "works again"]
    again.close()
