"""The child process of the crash test: writes to a history until it is killed.

Usage: ``python crash_writer.py HISTORY_DIR SEED``. Prints ``ready`` once open, then
one line per finished operation. A line is printed *after* a save returns (so the
parent may rely on it) and *before* a delete starts (so the parent stops relying
on what is being deleted).
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from pathlib import Path

from chat_tui.domain.models import Message
from chat_tui.storage.tinydb_repo import TinyDBRepository


def main() -> None:
    history_dir, seed = Path(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    repository = TinyDBRepository(history_dir)
    sessions = [s.id for s in repository.list_sessions()]
    known: dict[str, list[Message]] = {}
    out = sys.stdout

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    say("ready")
    while True:
        roll = rng.random()
        if not sessions or roll < 0.08:
            session = repository.create_session(rng.choice(["assistant", "coder"]))
            sessions.append(session.id)
            say(f"session {session.id}")
            continue
        session_id = rng.choice(sessions)
        if session_id not in known:
            known[session_id] = repository.messages(session_id)
        if roll < 0.70:
            message = Message(session_id=session_id, role="user", content="x" * rng.randint(1, 400))
            repository.append_message(message)
            known[session_id].append(message)
            say(f"saved {session_id} {message.id}")
        elif roll < 0.78:
            stored = repository.get_session(session_id)
            assert stored is not None
            repository.update_session(replace(stored, title=f"t{rng.randint(0, 999)}", titled=True))
            say("renamed")
        elif roll < 0.86 and known[session_id]:
            victim = known[session_id].pop(rng.randrange(len(known[session_id])))
            say(f"deleting-message {victim.id}")
            repository.delete_message(session_id, victim.id)
        elif roll < 0.93 and known[session_id]:
            edited = replace(known[session_id][-1], content="edited")
            repository.update_message(edited)
            known[session_id][-1] = edited
            say("edited")
        elif len(sessions) > 3:
            sessions.remove(session_id)
            known.pop(session_id, None)
            say(f"deleting-session {session_id}")
            repository.delete_session(session_id)


if __name__ == "__main__":
    main()
