"""Benchmark of the history search (ctrl+f, ``chat-tui search``) at 1,000 sessions x 50 messages.

Builds the history as real session files in a temporary directory, then prints:

* the cold index build (no ``history.search.sqlite3`` yet: every file read and indexed),
* query time p50/p95 through the service (the directory's signature scan, the FTS5
  query and the snippets), over words common and rare, prefixes, phrases, CJK pairs
  and single characters, a role filter and a miss,
* the incremental update per saved message (the repository's write hook), and the
  query that follows another process's write (one stale file indexed again first).

Run: ``python bench/bench_history_search.py [--sessions 1000] [--messages 50]``. Prints
figures; asserts nothing.
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

from chat_tui.domain.models import Message, Session  # noqa: E402
from chat_tui.services.history_search import HistorySearch  # noqa: E402
from chat_tui.storage.history_search import search_index_path  # noqa: E402
from chat_tui.storage.tinydb_repo import TinyDBRepository  # noqa: E402
from tests.support.history import import_sessions  # noqa: E402

_SYLLABLES = "ka lo mi ne su ta ri po va de zu fe gi ho ju".split()
_CJK = [
    "我们用中文分词来搜索历史记录",
    "数据库索引很快",
    "検索の結果を表示する",
    "한국어 검색 테스트",
]
_ACCENTED = ["café", "naïve", "Straße", "résumé", "Zürich"]

QUERIES = [
    "the",  # in most messages
    "model answer",  # two common words
    "zebra",  # rare (planted once per 100 sessions)
    "ka",  # a short prefix of many words
    "kalo",  # a longer prefix
    '"model answer"',  # a phrase
    "cafe",  # accent-insensitive
    "STRASSE",  # case folding, ß
    "中文",  # a CJK pair
    "中",  # a single CJK character
    "検索",  # Japanese
    "nothingmatches",  # a miss
]


def _vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    words = {"".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(size)}
    return sorted(words)


def _text(rng: random.Random, vocabulary: list[str], length: int = 300) -> str:
    words: list[str] = []
    size = 0
    while size < length:
        roll = rng.random()
        if roll < 0.25:
            word = rng.choice(["the", "a", "model", "answer", "question", "file"])
        elif roll < 0.27:
            word = rng.choice(_ACCENTED)
        elif roll < 0.29:
            word = rng.choice(_CJK)
        else:
            # Zipf-like: low indexes far more often.
            word = vocabulary[min(len(vocabulary) - 1, int(rng.paretovariate(1.1)) - 1)]
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


def populate(history_dir: Path, sessions: int, messages: int, seed: int = 11) -> list[str]:
    """``sessions`` sessions of ``messages`` ~300-character messages; returns their ids."""
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng)
    clock = time.time() - 90 * 86_400
    items: list[tuple[Session, list[Message]]] = []
    for number in range(sessions):
        session = Session(
            role=("assistant", "coder", "writer")[number % 3],
            title=f"Chat {number}",
            created_at=clock,
            updated_at=clock,
            titled=True,
        )
        turns = []
        for turn in range(messages):
            clock += 60
            text = _text(rng, vocabulary)
            if number % 100 == 0 and turn == messages // 2:
                text += " zebra"
            turns.append(
                Message(
                    session.id,
                    "user" if turn % 2 == 0 else "assistant",
                    text,
                    created_at=clock,
                )
            )
        items.append((session, turns))
    import_sessions(history_dir, items)
    return [session.id for session, _ in items]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-history-search-") as tmp:
        history = Path(tmp) / "history"
        started = time.perf_counter()
        ids = populate(history, args.sessions, args.messages)
        print(
            f"history: {args.sessions} sessions x {args.messages} messages "
            f"written in {time.perf_counter() - started:.1f} s"
        )

        search = HistorySearch(history)
        started = time.perf_counter()
        reindexed = search.index.refresh()
        build = time.perf_counter() - started
        size = search_index_path(history).stat().st_size
        print(
            f"cold index build: {build:.2f} s for {reindexed} session files "
            f"({size / 1e6:.1f} MB on disk)"
        )

        per_query: dict[str, list[float]] = {q: [] for q in QUERIES}
        per_query["model (--role coder)"] = []
        hits: dict[str, int] = {}
        for _ in range(args.rounds):
            for query in QUERIES:
                started = time.perf_counter()
                result = search.search(query)
                per_query[query].append(time.perf_counter() - started)
                hits[query] = len(result.hits)
            started = time.perf_counter()
            result = search.search("model", role="coder")
            per_query["model (--role coder)"].append(time.perf_counter() - started)
            hits["model (--role coder)"] = len(result.hits)
        every = sorted(t for times in per_query.values() for t in times)
        p50 = statistics.median(every)
        p95 = every[int(len(every) * 0.95) - 1]
        print(f"query p50 {_ms(p50)}, p95 {_ms(p95)}, max {_ms(every[-1])} ({len(every)} queries)")
        for query, times in per_query.items():
            print(
                f"  {query!r:28} median {_ms(statistics.median(times)):>9}  {hits[query]:>3} hits"
            )

        with TinyDBRepository(history) as repo:
            target = ids[len(ids) // 2]
            repo.messages(target)  # loaded, as in a chat being written to
            hook: list[float] = []
            saves: list[float] = []
            index = repo.search_index
            original = index.message_stored

            def timed(*hook_args: object) -> None:
                started = time.perf_counter()
                original(*hook_args)  # type: ignore[arg-type]
                hook.append(time.perf_counter() - started)

            index.message_stored = timed  # type: ignore[method-assign]
            for number in range(50):
                started = time.perf_counter()
                repo.append_message(Message(target, "user", f"incremental note {number} zebra"))
                saves.append(time.perf_counter() - started)
            print(
                f"incremental update (write hook) per saved message: median "
                f"{_ms(statistics.median(hook))}, max {_ms(max(hook))}; whole save median "
                f"{_ms(statistics.median(saves))}"
            )
            started = time.perf_counter()
            result = search.search("incremental")
            print(
                f"query right after: {_ms(time.perf_counter() - started)}, "
                f"{len(result.hits)} hits, {result.reindexed} files re-indexed"
            )

        # Another process's write whose hook did not run (an older chat-tui): stale file.
        other = ids[1]
        session = Session(role="writer", id=other, title="Rewritten elsewhere", titled=True)
        import_sessions(history, [(session, [Message(other, "user", "written elsewhere quokka")])])
        started = time.perf_counter()
        result = search.search("quokka")
        print(
            f"query after an unindexed write elsewhere: {_ms(time.perf_counter() - started)}, "
            f"{len(result.hits)} hit, {result.reindexed} file re-indexed"
        )
        search.close()


if __name__ == "__main__":
    main()
