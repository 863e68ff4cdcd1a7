"""A child process that writes to a shared history, for the multi-process tests.

Usage: ``python -m tests.unit.storage.history_child MODE HISTORY_DIR ARGS...``

Every mode prints ``ready`` once the history is open, waits for one line on stdin
(``go``, so several children start writing at the same moment), then reports each
finished operation on stdout: *after* a save returns (the parent may rely on it) and
*before* a delete starts (the parent stops relying on what is being deleted).

Modes:
    append SESSION TAG COUNT
        append COUNT user messages "TAG n" (n = 0..COUNT-1) to SESSION, then exit.
    churn RENAME CLEAR DELETE COUNT
        rename RENAME COUNT times ("title n"), create and fill a session of its own,
        clear CLEAR, delete DELETE, then exit.
    soak SEED SHARED TAG
        random work until killed: appends to the SHARED session ("TAG n", n counting
        up), and creates, fills, renames, checkpoints (a growing "interrupted" answer),
        edits and deletes sessions and messages of its own.
    unwritable SESSION
        (no "go": run inside a read-only mount) try every kind of write on a history
        that cannot be written; print one JSON line of what happened.
    fulldisk DIR
        (no "go": DIR is a tiny tmpfs) fill a history, fill the disk, try writes,
        free the disk, write again, reopen; print one JSON line of what happened.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import replace
from pathlib import Path

from chat_tui.domain.models import Message, MessageStatus
from chat_tui.errors import StorageError
from chat_tui.storage.tinydb_repo import TinyDBRepository


def say(line: str) -> None:
    """One progress line, flushed at once (the parent may kill us right after)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _start(history_dir: Path) -> TinyDBRepository:
    repository = TinyDBRepository(history_dir)
    say("ready")
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("no go")
    return repository


def append(history_dir: Path, session_id: str, tag: str, count: int) -> None:
    repository = _start(history_dir)
    for number in range(count):
        message = Message(session_id=session_id, role="user", content=f"{tag} {number}")
        repository.append_message(message)
        say(f"saved {session_id} {message.id}")
    repository.close()
    say("done")


def churn(history_dir: Path, rename: str, clear: str, delete: str, count: int) -> None:
    repository = _start(history_dir)
    for number in range(count):
        stored = repository.get_session(rename)
        assert stored is not None
        repository.update_session(replace(stored, title=f"title {number}", titled=True))
        if number == count // 3:
            own = repository.create_session("coder", title="churned")
            say(f"session {own.id}")
            for turn in range(5):
                message = Message(session_id=own.id, role="user", content=f"own {turn}")
                repository.append_message(message)
                say(f"saved {own.id} {message.id}")
    say(f"clearing {clear}")
    repository.clear_session(clear)
    say(f"deleting-session {delete}")
    repository.delete_session(delete)
    repository.close()
    say("done")


def soak(history_dir: Path, seed: int, shared: str, tag: str) -> None:
    rng = random.Random(seed)
    repository = _start(history_dir)
    own: dict[str, list[Message]] = {}
    counter = 0
    while True:
        roll = rng.random()
        if not own or roll < 0.06:
            session = repository.create_session(rng.choice(["assistant", "coder"]))
            own[session.id] = []
            say(f"session {session.id}")
            continue
        session_id = rng.choice(sorted(own))
        mine = own[session_id]
        if roll < 0.45:
            message = Message(session_id=shared, role="user", content=f"{tag} {counter}")
            counter += 1
            repository.append_message(message)
            say(f"saved {shared} {message.id}")
        elif roll < 0.68:
            message = Message(session_id=session_id, role="user", content="x" * rng.randint(1, 400))
            repository.append_message(message)
            mine.append(message)
            say(f"saved {session_id} {message.id}")
        elif roll < 0.74:
            stored = repository.get_session(session_id)
            assert stored is not None
            repository.update_session(replace(stored, title=f"t{rng.randint(0, 999)}", titled=True))
            say("renamed")
        elif roll < 0.80 and mine:
            victim = mine.pop(rng.randrange(len(mine)))
            say(f"deleting-message {victim.id}")
            repository.delete_message(session_id, victim.id)
        elif roll < 0.84 and mine:
            edited = replace(mine[-1], content=mine[-1].content + " (edited)")
            repository.update_message(edited)
            mine[-1] = edited
            say("edited")
        elif roll < 0.95:
            # A streamed answer checkpointed as it grows, as the chat service does.
            answer = Message(
                session_id=session_id,
                role="assistant",
                content="",
                status=MessageStatus.INTERRUPTED,
            )
            for _ in range(rng.randint(1, 6)):
                answer = replace(answer, content=answer.content + "y" * rng.randint(50, 20_000))
                repository.append_message(answer)
                say(f"grew {session_id} {answer.id} {len(answer.content)}")
            answer = replace(answer, status=MessageStatus.COMPLETE)
            repository.update_message(answer)
            mine.append(answer)
            say(f"grew {session_id} {answer.id} {len(answer.content)}")
        elif len(own) > 2:
            del own[session_id]
            say(f"deleting-session {session_id}")
            repository.delete_session(session_id)


def _attempts(
    repository: TinyDBRepository, session_id: str, *, delete: bool = True
) -> dict[str, str]:
    """Try each kind of write; the error text of each (or "stored" when it worked)."""
    stored = repository.get_session(session_id)
    assert stored is not None
    growing = repository.messages(session_id)[-1]
    writes = {
        "append": lambda: repository.append_message(
            Message(session_id=session_id, role="user", content="z" * 300_000)
        ),
        "checkpoint": lambda: repository.update_message(
            replace(growing, content=growing.content + "w" * 300_000)
        ),
        "create": lambda: repository.create_session("assistant"),
        "rename": lambda: repository.update_session(replace(stored, title="renamed")),
        "clear": lambda: repository.clear_session(session_id),
    }
    if delete:  # (a full disk still lets a file be deleted)
        writes["delete"] = lambda: repository.delete_session(session_id)
    errors: dict[str, str] = {}
    for name, write in writes.items():
        try:
            write()
            errors[name] = "stored"
        except StorageError as error:
            errors[name] = str(error)
    return errors


def _view(repository: TinyDBRepository, session_id: str) -> dict[str, object]:
    session = repository.get_session(session_id)
    return {
        "contents": [m.content[:40] + str(len(m.content)) for m in repository.messages(session_id)],
        "count": session.message_count if session else None,
        "title": session.title if session else None,
        "sessions": len(repository.list_sessions()),
    }


def unwritable(history_dir: Path, session_id: str) -> None:
    repository = TinyDBRepository(history_dir)
    before = _view(repository, session_id)
    errors = _attempts(repository, session_id)
    after = _view(repository, session_id)
    refreshed = sorted(repository.refresh())
    repository.close()
    print(json.dumps({"before": before, "after": after, "errors": errors, "refresh": refreshed}))


def fulldisk(directory: Path) -> None:
    history_dir = directory / "history"
    repository = TinyDBRepository(history_dir)
    session = repository.create_session("assistant", title="kept")
    for turn in range(5):
        repository.append_message(Message(session_id=session.id, role="user", content=f"{turn}"))
    answer = Message(
        session_id=session.id,
        role="assistant",
        content="a" * 1000,
        status=MessageStatus.INTERRUPTED,
    )
    repository.append_message(answer)
    before = _view(repository, session.id)
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as handle:
        for size in (1 << 16, 1 << 12, 1 << 8, 1):
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError:
                continue
    errors = _attempts(repository, session.id, delete=False)
    after = _view(repository, session.id)
    filler.unlink()
    repository.append_message(Message(session_id=session.id, role="user", content="after"))
    repository.close()
    reopened = TinyDBRepository(history_dir)
    final = _view(reopened, session.id)
    notices = reopened.notices
    reopened.close()
    print(
        json.dumps(
            {"before": before, "after": after, "errors": errors, "final": final, "notices": notices}
        )
    )


def main() -> None:
    mode, history_dir, *args = sys.argv[1:]
    path = Path(history_dir)
    if mode == "append":
        append(path, args[0], args[1], int(args[2]))
    elif mode == "churn":
        churn(path, args[0], args[1], args[2], int(args[3]))
    elif mode == "soak":
        soak(path, int(args[0]), args[1], args[2])
    elif mode == "unwritable":
        unwritable(path, args[0])
    elif mode == "fulldisk":
        fulldisk(path)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
