"""Opening a version-1 history (the prototype's single history.json) upgrades it."""

from __future__ import annotations

import json
from pathlib import Path

from chat_tui.storage.schema import CURRENT_SCHEMA_VERSION, UPGRADES
from chat_tui.storage.tinydb_repo import TinyDBRepository

from .conftest import load_every_json


def _v1_history(history_dir: Path) -> dict[str, dict[str, dict[str, object]]]:
    """What the prototype wrote: one TinyDB file, every message in one table."""
    sessions = {
        "1": {
            "id": "s-alpha",
            "role": "assistant",
            "title": "Alpha",
            "created_at": 100.0,
            "updated_at": 100.0,
        },
        "2": {
            "id": "s-beta",
            "role": "coder",
            "title": "Beta",
            "created_at": 200.0,
            "updated_at": 260.0,
        },
        "3": {
            "id": "s-empty",
            "role": "assistant",
            "title": "New chat",
            "created_at": 300.0,
            "updated_at": 300.0,
        },
    }
    rows = [
        ("m1", "s-alpha", "user", "hello", 101.0),
        ("m4", "s-beta", "user", "fix this bug", 201.0),
        ("m2", "s-alpha", "assistant", "hi there ✓", 102.0),
        ("m3", "s-alpha", "user", "bye", 150.0),
        ("m5", "s-beta", "assistant", "done", 202.0),
        ("m6", "s-lost", "user", "my session record is gone", 400.0),
    ]
    messages = {
        str(n): {
            "id": mid,
            "session_id": sid,
            "role": role,
            "content": text,
            "created_at": at,
            "model": "proto-model",
        }
        for n, (mid, sid, role, text, at) in enumerate(rows, start=1)
    }
    data = {"sessions": sessions, "messages": messages}
    history_dir.mkdir(parents=True)
    (history_dir / "history.json").write_text(json.dumps(data), encoding="utf-8")
    return data


def test_registry_reaches_the_current_version() -> None:
    assert sorted(UPGRADES) == list(range(1, CURRENT_SCHEMA_VERSION))


def test_version_1_history_is_split_into_session_files(history_dir: Path) -> None:
    original = _v1_history(history_dir)

    repository = TinyDBRepository(history_dir)
    assert len(repository.notices) == 1
    assert "Upgraded the history to format 2 (4 sessions, 6 messages)" in repository.notices[0]

    sessions = {s.id: s for s in repository.list_sessions()}
    assert set(sessions) == {"s-alpha", "s-beta", "s-empty", "s-lost"}
    assert sessions["s-alpha"].title == "Alpha" and sessions["s-alpha"].message_count == 3
    assert sessions["s-alpha"].updated_at == 150.0
    assert sessions["s-beta"].role == "coder" and sessions["s-beta"].updated_at == 260.0
    assert sessions["s-empty"].message_count == 0
    assert sessions["s-lost"].title == "Recovered chat"

    for row in original["messages"].values():
        stored = {m.id: m for m in repository.messages(str(row["session_id"]))}
        message = stored[str(row["id"])]
        assert (message.role, message.content, message.created_at, message.model) == (
            row["role"],
            row["content"],
            row["created_at"],
            row["model"],
        )
    assert [m.id for m in repository.messages("s-alpha")] == ["m1", "m2", "m3"]
    repository.close()

    assert not (history_dir / "history.json").exists()
    backup = history_dir / "history.json.v1-backup"
    assert json.loads(backup.read_text(encoding="utf-8")) == original  # kept, untouched
    files = load_every_json(history_dir)
    index = files[history_dir / "index.json"]
    assert index["_meta"]["1"]["schema_version"] == 2
    assert len(list((history_dir / "sessions").iterdir())) == 4

    again = TinyDBRepository(history_dir)
    assert again.notices == []
    assert sum(s.message_count for s in again.list_sessions()) == 6
    again.close()


def test_unreadable_version_1_file_is_moved_aside(history_dir: Path) -> None:
    history_dir.mkdir(parents=True)
    (history_dir / "history.json").write_text('{"sessions": {"1": ', encoding="utf-8")
    repository = TinyDBRepository(history_dir)
    assert any("history.json was damaged" in n for n in repository.notices)
    assert repository.list_sessions() == []
    assert [p.name for p in history_dir.iterdir() if p.name.startswith("history.json.corrupt-")]
    repository.close()
