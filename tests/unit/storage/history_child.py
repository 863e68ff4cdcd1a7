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
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from pathlib import Path

from chat_tui.domain.models import Message, MessageStatus
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


def main() -> None:
    mode, history_dir, *args = sys.argv[1:]
    path = Path(history_dir)
    if mode == "append":
        append(path, args[0], args[1], int(args[2]))
    elif mode == "churn":
        churn(path, args[0], args[1], args[2], int(args[3]))
    elif mode == "soak":
        soak(path, int(args[0]), args[1], args[2])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
