"""Benchmark of the history storage: save cost at scale, cold session load, start-up,
refresh() polling, saves interleaved with another process, and a growing checkpoint.

Run: ``python bench/bench_storage.py [--sessions 1000] [--messages 50000]``. Prints figures;
asserts nothing. :func:`populate` is importable to build the same data set elsewhere.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chat_tui.domain.models import Message, MessageStatus, Session  # noqa: E402
from chat_tui.storage.tinydb_repo import TinyDBRepository  # noqa: E402
from tests.support.history import import_sessions  # noqa: E402

_WORDS = "the a model answer question file context token stream session index write read".split()


def _text(rng: random.Random, length: int = 300) -> str:
    words: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(_WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


def populate(
    history_dir: Path, sessions: int = 1000, messages: int = 50000, *, seed: int = 7
) -> list[str]:
    """Fill ``history_dir`` with ``sessions`` sessions holding ``messages`` messages in all.

    Messages are ~300 characters, alternating user/assistant, spread evenly over the
    sessions, with increasing timestamps over the last 90 days.

    Returns:
        The session ids, oldest first.
    """
    rng = random.Random(seed)
    start = time.time() - 90 * 86_400
    step = (90 * 86_400) / max(1, messages + sessions)
    clock = start
    items: list[tuple[Session, list[Message]]] = []
    per_session, extra = divmod(messages, max(1, sessions))
    for number in range(sessions):
        session = Session(
            role=("assistant", "coder", "writer")[number % 3],
            title=f"Chat {number}: {_text(rng, 30)}",
            created_at=clock,
            updated_at=clock,
            titled=True,
        )
        batch: list[Message] = []
        for turn in range(per_session + (1 if number < extra else 0)):
            clock += step
            batch.append(
                Message(
                    session_id=session.id,
                    role="user" if turn % 2 == 0 else "assistant",
                    content=_text(rng),
                    created_at=clock,
                    model=None if turn % 2 == 0 else "bench-model",
                )
            )
        clock += step
        items.append((session, batch))
    import_sessions(history_dir, items)
    TinyDBRepository(history_dir).close()  # builds the index, as a first start would
    return [session.id for session, _ in items]


def _fsync_floor(directory: Path) -> float:
    """Median cost of the smallest durable atomic write here: the disk's share of a save."""
    from chat_tui.storage.atomic import write_atomically

    probe = directory / "fsync-probe.json"
    times = []
    for _ in range(50):
        began = time.perf_counter()
        write_atomically(probe, b"{}" * 512)
        times.append(time.perf_counter() - began)
    probe.unlink()
    return statistics.median(times)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=50000)
    parser.add_argument("--saves", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        history_dir = Path(tmp) / "xdg-data" / "chat-tui" / "history"
        began = time.perf_counter()
        ids = populate(history_dir, args.sessions, args.messages)
        print(
            f"data set: {args.sessions} sessions, {args.messages} messages "
            f"(built in {time.perf_counter() - began:.1f} s)"
        )

        # (3) start-up: open + list_sessions, cold process caches aside
        opens = []
        for _ in range(5):
            began = time.perf_counter()
            repository = TinyDBRepository(history_dir)
            listed = repository.list_sessions()
            opens.append(time.perf_counter() - began)
            repository.close()
        assert len(listed) == args.sessions
        print(
            f"open + list_sessions ({len(listed)} sessions): "
            f"median {_ms(statistics.median(opens))}, max {_ms(max(opens))}"
        )

        # (1) one save with the whole data set stored
        repository = TinyDBRepository(history_dir)
        rng = random.Random(1)
        last = ids[0]
        saves: list[float] = []
        cpu: list[float] = []
        for n in range(args.saves):
            session_id = rng.choice(ids)
            if n == 0 or rng.random() < 0.1:
                repository.messages(session_id)  # load outside the timing, as the TUI would
            else:
                session_id = last
            message = Message(session_id=session_id, role="user", content=_text(rng))
            began, began_cpu = time.perf_counter(), time.process_time()
            repository.append_message(message)
            saves.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
            last = session_id
        saves.sort()
        p95 = saves[int(len(saves) * 0.95) - 1]
        print(
            f"save one message ({args.messages} stored, session already open): "
            f"median {_ms(statistics.median(saves))}, p95 {_ms(p95)}, max {_ms(saves[-1])}; "
            f"CPU median {_ms(statistics.median(cpu))}"
        )
        print(
            "  disk floor now (1 KB write+fsync+rename+dir fsync): "
            f"{_ms(_fsync_floor(history_dir))}"
        )

        # (2) a 2,000-message session's messages, cold
        big = Session(role="assistant", title="big")
        big_messages = [
            Message(
                session_id=big.id,
                role="user" if i % 2 == 0 else "assistant",
                content=_text(rng),
                created_at=1_700_000_000.0 + i,
            )
            for i in range(2000)
        ]
        import_sessions(history_dir, [(big, big_messages)])
        repository.refresh()
        repository.close()
        colds = []
        for _ in range(5):
            repository = TinyDBRepository(history_dir)
            began = time.perf_counter()
            loaded = repository.messages(big.id)
            colds.append(time.perf_counter() - began)
            repository.close()
        assert len(loaded) == 2000
        print(
            f"messages() of a 2,000-message session, cold: median {_ms(statistics.median(colds))}, "
            f"max {_ms(max(colds))}"
        )

        repository = TinyDBRepository(history_dir)
        repository.messages(big.id)
        big_saves = []
        for _ in range(50):
            began = time.perf_counter()
            repository.append_message(Message(session_id=big.id, role="user", content=_text(rng)))
            big_saves.append(time.perf_counter() - began)
        print(
            f"save one message into the 2,000-message session: "
            f"median {_ms(statistics.median(big_saves))}, max {_ms(max(big_saves))}"
        )

        # (4) refresh(): what a TUI pays to poll for other processes' changes. A second
        # repository stands in for the other process (its own lock file descriptor, so
        # the same flock and change log as between processes).
        other = TinyDBRepository(history_dir)
        idle = []
        for _ in range(200):
            began = time.perf_counter()
            repository.refresh()
            idle.append(time.perf_counter() - began)
        small = ids[len(ids) // 2]
        repository.messages(small)
        other.messages(small)
        busy = []
        for _ in range(50):
            other.append_message(Message(session_id=small, role="user", content=_text(rng)))
            began = time.perf_counter()
            changed = repository.refresh()
            busy.append(time.perf_counter() - began)
        assert changed == {small}
        print(
            f"refresh() with {len(ids) + 1} sessions: nothing changed median "
            f"{_ms(statistics.median(idle))}; one ~{args.messages // args.sessions}-message "
            f"session changed by another process median {_ms(statistics.median(busy))}"
        )

        # (5) two processes taking turns saving into one session: each save first
        # re-reads the file the other wrote.
        turns = []
        for n in range(100):
            writer = repository if n % 2 else other
            message = Message(session_id=small, role="user", content=_text(rng))
            began = time.perf_counter()
            writer.append_message(message)
            turns.append(time.perf_counter() - began)
        print(
            "save one message, two processes alternating on one session: "
            f"median {_ms(statistics.median(turns))}, max {_ms(max(turns))}"
        )
        other.close()

        # (6) a streamed answer checkpointed as it grows: one message replaced 64 times,
        # 16 KiB more each time, up to 1 MiB (what the chat service does with status
        # "interrupted" every few seconds or KB).
        answer = Message(
            session_id=small, role="assistant", content="", status=MessageStatus.INTERRUPTED
        )
        repository.append_message(answer)
        piece = _text(rng, 16 * 1024)[: 16 * 1024]
        steps: list[tuple[int, float]] = []
        for _ in range(64):
            answer = Message(
                session_id=answer.session_id,
                role="assistant",
                content=answer.content + piece,
                id=answer.id,
                created_at=answer.created_at,
                status=MessageStatus.INTERRUPTED,
            )
            began = time.perf_counter()
            repository.update_message(answer)
            steps.append((len(answer.content), time.perf_counter() - began))
        repository.close()
        at = {size: took for size, took in steps}
        marks = ", ".join(
            f"{size // 1024} KiB {_ms(at[size])}" for size in (64 * 1024, 256 * 1024, 1 << 20)
        )
        print(
            "checkpoint (update_message of one growing answer, 16 KiB to 1 MiB, 64 writes): "
            f"median {_ms(statistics.median(t for _, t in steps))}, "
            f"max {_ms(max(t for _, t in steps))}; at {marks}"
        )


if __name__ == "__main__":
    main()
