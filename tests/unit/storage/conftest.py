"""Fixtures for the storage tests: a real history directory and a repository on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chat_tui.domain.models import Message, Session
from chat_tui.storage.tinydb_repo import TinyDBRepository


@pytest.fixture
def history_dir(tmp_path: Path) -> Path:
    """A history directory that does not exist yet (the repository creates it)."""
    return tmp_path / "xdg-data" / "chat-tui" / "history"


@pytest.fixture
def repo(history_dir: Path) -> Iterator[TinyDBRepository]:
    """An open repository, closed after the test."""
    repository = TinyDBRepository(history_dir)
    yield repository
    repository.close()


def make_history(
    count_sessions: int, per_session: int, *, start: float = 1_700_000_000.0
) -> list[tuple[Session, list[Message]]]:
    """Sessions with messages whose times increase by one second each."""
    items: list[tuple[Session, list[Message]]] = []
    clock = start
    for number in range(count_sessions):
        session = Session(
            role="assistant" if number % 2 else "coder",
            title=f"Chat {number}",
            created_at=clock,
            updated_at=clock,
        )
        messages = []
        for turn in range(per_session):
            clock += 1.0
            messages.append(
                Message(
                    session_id=session.id,
                    role="user" if turn % 2 == 0 else "assistant",
                    content=f"message {turn} of chat {number}",
                    created_at=clock,
                )
            )
        items.append((session, messages))
    return items


def load_every_json(directory: Path) -> dict[Path, Any]:
    """Parse every file under ``directory`` with plain ``json.load`` (fails loudly)."""
    parsed: dict[Path, Any] = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            with path.open(encoding="utf-8") as handle:
                parsed[path] = json.load(handle)
    return parsed
