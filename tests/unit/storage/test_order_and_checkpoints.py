"""Storage order under a clock that steps backwards, and a growing checkpointed answer.

Issue 7 items 4 and 6 (the storage side): a conversation keeps the order its turns
were saved in whatever the wall clock does (also through the upgrade of a
prototype history), and the chat service's "interrupted"
checkpoints (one message replaced again and again as the answer grows) are each
stored whole and survive a reopen.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from chat_tui.domain.models import Message, MessageStatus
from chat_tui.storage.tinydb_repo import TinyDBRepository


def test_a_clock_stepping_backwards_does_not_reorder_a_chat(
    history_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = iter([1_800_000_000.0, 1_800_000_005.0, 1_700_000_000.0, 1_700_000_001.0])
    real_time = time.time
    repository = TinyDBRepository(history_dir)
    session = repository.create_session("assistant")
    monkeypatch.setattr(time, "time", lambda: next(readings, real_time()))
    question = Message(session_id=session.id, role="user", content="question")
    repository.append_message(question)
    answer = Message(session_id=session.id, role="assistant", content="answer")
    repository.append_message(answer)
    # NTP steps the clock back a few years between two turns.
    follow_up = Message(session_id=session.id, role="user", content="follow-up")
    repository.append_message(follow_up)
    monkeypatch.setattr(time, "time", real_time)
    assert follow_up.created_at < question.created_at  # the clock really went back
    expected = ["question", "answer", "follow-up"]
    assert [m.content for m in repository.messages(session.id)] == expected
    repository.close()
    with TinyDBRepository(history_dir, max_loaded_sessions=1) as reopened:
        assert [m.content for m in reopened.messages(session.id)] == expected


def test_upgrading_a_version_1_history_keeps_the_order_of_a_clock_that_stepped_back(
    history_dir: Path,
) -> None:
    # As the prototype wrote it: one table, doc ids in save order, and NTP stepping the
    # clock back a year between the question and its answer.
    turns = [("q", "user", "question", 1_800_000_000.0), ("a", "assistant", "answer", 1.7e9)]
    turns.append(("f", "user", "follow-up", 1_700_000_001.0))
    history_dir.mkdir(parents=True)
    (history_dir / "history.json").write_text(
        json.dumps(
            {
                "sessions": {"1": {"id": "s1", "role": "assistant", "title": "t"}},
                "messages": {
                    str(n): {
                        "id": mid,
                        "session_id": "s1",
                        "role": r,
                        "content": c,
                        "created_at": t,
                    }
                    for n, (mid, r, c, t) in enumerate(turns, start=1)
                },
            }
        ),
        encoding="utf-8",
    )
    upgrade = (
        "import sys; from pathlib import Path\n"
        "from chat_tui.storage.tinydb_repo import TinyDBRepository\n"
        "TinyDBRepository(Path(sys.argv[1])).close()\n"
    )
    subprocess.run([sys.executable, "-c", upgrade, str(history_dir)], check=True, timeout=60)
    with TinyDBRepository(history_dir) as reopened:
        assert [m.content for m in reopened.messages("s1")] == ["question", "answer", "follow-up"]


def test_old_files_without_the_new_status_still_load(history_dir: Path) -> None:
    with TinyDBRepository(history_dir) as repository:
        session = repository.create_session("assistant")
        repository.append_message(Message(session_id=session.id, role="user", content="q"))
    path = next((history_dir / "sessions").glob("*.json"))
    data = json.loads(path.read_text())
    for doc in data["messages"].values():
        del doc["status"]  # as an older chat-tui might have written it
    data["messages"]["2"] = {**data["messages"]["1"], "id": "x2", "status": "from-the-future"}
    path.write_text(json.dumps(data))
    with TinyDBRepository(history_dir) as reopened:
        statuses = [m.status for m in reopened.messages(session.id)]
    assert statuses == [MessageStatus.COMPLETE, MessageStatus.COMPLETE]


def test_a_growing_checkpoint_is_stored_whole_each_time(history_dir: Path) -> None:
    repository = TinyDBRepository(history_dir)
    session = repository.create_session("assistant")
    question = Message(session_id=session.id, role="user", content="write a lot")
    repository.append_message(question)
    answer = Message(
        session_id=session.id, role="assistant", content="", status=MessageStatus.INTERRUPTED
    )
    chunk = "0123456789abcdef" * 4096  # 64 KiB
    sizes = []
    for step in range(16):  # up to 1 MiB, as the chat service would checkpoint it
        answer = replace(answer, content=answer.content + chunk)
        if step % 2:
            repository.update_message(answer)
        else:
            repository.append_message(answer)  # the same id: a replace, not a second copy
        sizes.append(len(answer.content))
        # Another process (here: a second repository) sees exactly this checkpoint.
        with TinyDBRepository(history_dir) as reader:
            stored = reader.messages(session.id)
            assert [m.id for m in stored] == [question.id, answer.id]
            assert stored[-1].content == answer.content
            assert stored[-1].status is MessageStatus.INTERRUPTED
            assert reader.get_session(session.id).message_count == 2  # type: ignore[union-attr]
    assert sizes[-1] == 1 << 20
    final = replace(answer, status=MessageStatus.COMPLETE, completed_at=time.time())
    repository.update_message(final)
    repository.close()
    with TinyDBRepository(history_dir) as reopened:
        assert reopened.messages(session.id) == [question, final]
        assert reopened.notices == []
