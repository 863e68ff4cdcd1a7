"""The history search index: kept current by every write, rebuilt when missing or stale.

Real TinyDB files and a real SQLite file in a temporary history directory; the
"other process" is a second writer of session files (tests/support/history.py), which
does not tell the index, as an older chat-tui would not.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from chat_tui.domain.models import Message, Session
from chat_tui.services.history_search import HistorySearch
from chat_tui.storage.history_search import search_index_path
from chat_tui.storage.tinydb_repo import TinyDBRepository
from tests.support.history import import_sessions


def found(search: HistorySearch, query: str, role: str | None = None) -> list[str]:
    """The contents' snippets of what ``query`` finds."""
    return [hit.snippet.text for hit in search.search(query, role).hits]


def test_every_write_updates_the_index(repo: TinyDBRepository, history_dir: Path) -> None:
    search = HistorySearch(history_dir)
    coder = repo.create_session("coder")
    writer = repo.create_session("writer")
    question = Message(coder.id, "user", "How do I parse JSON in Python?")
    repo.append_message(question)
    repo.append_message(Message(writer.id, "user", "A poem about a café in Zürich"))

    result = search.search("zurich")
    assert [(h.role, h.session_id, h.speaker) for h in result.hits] == [
        ("writer", writer.id, "user")
    ]
    assert search.search("pars", role="coder").hits[0].message_id == question.id
    assert search.search("pars", role="writer").hits == []

    repo.update_message(replace(question, content="How do I read YAML?"))
    assert found(search, "json") == []
    assert found(search, "yaml") == ["How do I read YAML?"]
    repo.update_session(replace(repo.get_session(coder.id), title="YAML help"))  # type: ignore[arg-type]
    assert search.search("yaml").hits[0].session_title == "YAML help"

    repo.delete_message(coder.id, question.id)
    assert found(search, "yaml") == []
    repo.clear_session(writer.id)
    assert found(search, "cafe") == []
    repo.append_message(Message(writer.id, "assistant", "Fresh start"))
    repo.delete_session(writer.id)
    assert found(search, "fresh") == []
    search.close()


def test_the_hooks_leave_nothing_for_the_query_to_do(
    repo: TinyDBRepository, history_dir: Path
) -> None:
    search = HistorySearch(history_dir)
    session = repo.create_session("assistant")
    search.search("warm")  # the index is current from here
    repo.append_message(Message(session.id, "user", "kept up to date on every write"))
    result = search.search("every write")
    assert [h.snippet.text for h in result.hits] == ["kept up to date on every write"]
    assert result.reindexed == 0  # the write hook indexed it, not the query
    search.close()


def test_a_deleted_index_is_rebuilt_from_the_files(
    repo: TinyDBRepository, history_dir: Path
) -> None:
    session = repo.create_session("coder")
    repo.append_message(Message(session.id, "user", "needle in the history"))
    repo.search_index.close()
    index = search_index_path(history_dir)
    for path in index.parent.glob(index.name + "*"):
        path.unlink()
    search = HistorySearch(history_dir)
    result = search.search("needle")
    assert [h.session_id for h in result.hits] == [session.id]
    assert result.reindexed == 1
    search.close()


def test_a_damaged_index_is_rebuilt(repo: TinyDBRepository, history_dir: Path) -> None:
    session = repo.create_session("coder")
    repo.append_message(Message(session.id, "user", "needle in the history"))
    repo.search_index.close()
    index = search_index_path(history_dir)
    for path in index.parent.glob(index.name + "-*"):
        path.unlink()
    index.write_bytes(b"this is not a database" * 100)
    search = HistorySearch(history_dir)
    assert [h.session_id for h in search.search("needle").hits] == [session.id]
    search.close()


def test_a_write_the_index_missed_is_found(repo: TinyDBRepository, history_dir: Path) -> None:
    search = HistorySearch(history_dir)
    mine = repo.create_session("coder")
    repo.append_message(Message(mine.id, "user", "mine"))
    search.search("mine")
    # Another writer that does not tell the index: a new session and a changed one.
    theirs = Session(role="writer", title="Elsewhere")
    import_sessions(
        history_dir,
        [
            (theirs, [Message(theirs.id, "user", "written by another process")]),
            (replace(mine, message_count=0), [Message(mine.id, "user", "rewritten elsewhere")]),
        ],
    )
    result = search.search("elsewhere")
    assert [h.session_id for h in result.hits] == [mine.id]
    assert result.reindexed == 2
    assert [h.role for h in search.search("process").hits] == ["writer"]
    assert found(search, "mine") == []
    search.close()


def test_an_index_failure_never_fails_a_write(history_dir: Path) -> None:
    search_index_path(history_dir).mkdir(parents=True)  # SQLite cannot open a directory
    with TinyDBRepository(history_dir) as repo:
        session = repo.create_session("coder")
        repo.append_message(Message(session.id, "user", "saved whatever the index says"))
        assert [m.content for m in repo.messages(session.id)] == ["saved whatever the index says"]
    in_memory = HistorySearch(history_dir)  # the index file cannot be had: built in memory
    assert found(in_memory, "whatever") == ["saved whatever the index says"]
    in_memory.close()
    search_index_path(history_dir).rmdir()
    search = HistorySearch(history_dir)
    assert found(search, "whatever") == ["saved whatever the index says"]
    search.close()


def test_snippets_are_safe_to_show_and_point_at_the_match(
    repo: TinyDBRepository, history_dir: Path
) -> None:
    session = repo.create_session("coder")
    hostile = "\x1b]0;pwned\x07" + "filler " * 30 + "the \x1b[31mred\x1b[0m\nflag\u202e here"
    repo.append_message(Message(session.id, "assistant", hostile))
    search = HistorySearch(history_dir)
    (hit,) = search.search("red flag").hits
    text = hit.snippet.text
    assert "\x1b" not in text and "\n" not in text and "\u202e" not in text
    assert text.startswith("…")
    assert [text[a:b] for a, b in hit.snippet.spans] == ["red", "flag"]
    assert hit.to_dict()["spans"] == [list(span) for span in hit.snippet.spans]
    search.close()
