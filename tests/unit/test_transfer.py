"""Export and import of sessions (chat_tui.services.transfer) on real history directories."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from chat_tui.domain.models import Citation, Message, MessageStatus, Session, Usage
from chat_tui.services.transfer import (
    EXPORT_FORMAT,
    TransferError,
    close_open_fence,
    export_document,
    export_file_name,
    export_json,
    export_markdown,
    import_sessions,
    read_import_file,
    write_new_file,
)
from chat_tui.storage.tinydb_repo import TinyDBRepository

CHATGPT = Path(__file__).parents[1] / "support" / "data" / "chatgpt_conversations.json"


def full_session(repo: TinyDBRepository, title: str = "Fences & sources") -> Session:
    """A stored session using every stored field: reasoning, usage, sources, failures."""
    session = repo.add_session(
        Session(
            role="programmer",
            title=title,
            created_at=1_700_000_000.25,
            updated_at=1_700_000_500.5,
            knowledge_base="docs",
            retrieval_enabled=False,
            titled=True,
        )
    )
    messages = [
        Message(session.id, "user", "How do I list files?", created_at=1_700_000_001.5),
        Message(
            session.id,
            "assistant",
            "Like this:\n\n```bash\nls -la\n```\n\n# not a heading inside text",
            reasoning="They want ls.",
            created_at=1_700_000_002.0,
            completed_at=1_700_000_003.0,
            model="fake-model",
            usage=Usage(10, 20, 30),
            citations=(
                Citation("/docs/guide.md", heading="Files", line_start=3, line_end=9, score=0.5),
                Citation("/docs/os.html", anchor="os.stat", root="/docs", also_in=("/b/os.html",)),
            ),
        ),
        Message(session.id, "user", "And hidden ones?", created_at=1_700_000_004.0),
        Message(
            session.id,
            "assistant",
            "```python\nprint('cut short",
            status=MessageStatus.FAILED,
            error="server closed the stream",
            error_kind="connection",
            created_at=1_700_000_005.0,
        ),
    ]
    for message in messages:
        repo.append_message(message)
    stored = repo.get_session(session.id)
    assert stored is not None
    return stored


def snapshot(repo: TinyDBRepository) -> dict[str, tuple[Session, list[Message]]]:
    return {s.id: (s, repo.messages(s.id)) for s in repo.list_sessions()}


def test_a_json_export_imported_into_an_empty_history_gives_the_same_sessions(
    tmp_path: Path,
) -> None:
    with TinyDBRepository(tmp_path / "one") as source:
        full_session(source)
        full_session(source, "Second")
        source.create_session("assistant", title="Empty one")
        before = snapshot(source)
        export = tmp_path / "all.json"
        export.write_text(export_json(source, source.list_sessions()), encoding="utf-8")
    document = json.loads(export.read_text(encoding="utf-8"))
    assert document["format"] == EXPORT_FORMAT and document["version"] == 1
    read = read_import_file(export, "assistant")
    with TinyDBRepository(tmp_path / "two") as target:
        outcomes = import_sessions(target, read.sessions)
        assert [o.outcome for o in outcomes] == ["imported"] * 3
        assert snapshot(target) == before  # ids, times, every field, message order
    with TinyDBRepository(tmp_path / "two") as reopened:
        assert snapshot(reopened) == before


def test_importing_twice_adds_nothing_and_a_changed_session_is_kept_beside(
    tmp_path: Path,
) -> None:
    with TinyDBRepository(tmp_path / "history") as repo:
        session = full_session(repo)
        export = tmp_path / "one.json"
        export.write_text(export_json(repo, [session]), encoding="utf-8")
        again = import_sessions(repo, read_import_file(export, "assistant").sessions)
        assert [o.outcome for o in again] == ["skipped"]
        # Continued after the export: the import must neither replace nor duplicate it.
        repo.append_message(Message(session.id, "user", "a newer question"))
        continued = repo.messages(session.id)
        first = import_sessions(repo, read_import_file(export, "assistant").sessions)
        assert [o.outcome for o in first] == ["copied"]
        copy = first[0].session
        assert copy.id != session.id and copy.title == session.title
        assert repo.messages(session.id) == continued
        assert [m.content for m in repo.messages(copy.id)] == [m.content for m in continued[:-1]]
        second = import_sessions(repo, read_import_file(export, "assistant").sessions)
        assert [(o.outcome, o.session.id) for o in second] == [("skipped", copy.id)]
        assert len(repo.list_sessions()) == 2


def test_markdown_has_title_role_dates_turns_fences_and_sources(tmp_path: Path) -> None:
    with TinyDBRepository(tmp_path / "history") as repo:
        session = full_session(repo)
        text = export_markdown(repo, [session])
    lines = text.splitlines()
    assert lines[0] == "# Fences & sources"
    assert "- Role: programmer" in lines
    assert any(line.startswith("- Started: 2023-11-") for line in lines)
    headings = [line for line in lines if line.startswith("## ")]
    assert [h.split(" ")[1] for h in headings] == ["User", "Assistant", "User", "Assistant"]
    assert "(fake-model)" in headings[1] and headings[3].endswith("[failed]")
    assert "```bash\nls -la\n```" in text
    assert "**Sources**\n\n1. guide.md > Files (lines 3-9)" in text.replace("/docs/", "")
    assert "2. os.html#os.stat (also in: /b/os.html)" in text
    assert "They want ls." in text and "> **Error:** server closed the stream" in text
    # The cut-short fence is closed, so nothing after it is swallowed as code.
    assert text.rstrip().endswith(
        "```python\nprint('cut short\n```\n\n> **Error:** server closed the stream"
    )


def test_markdown_follows_the_branch_shown_and_json_keeps_every_branch(tmp_path: Path) -> None:
    with TinyDBRepository(tmp_path / "one") as repo:
        session = repo.create_session("assistant", title="Branched")
        question = Message(session.id, "user", "first wording")
        repo.append_message(question)
        old = Message(session.id, "assistant", "old answer", parent_id=question.id)
        repo.append_message(old)
        new = Message(session.id, "assistant", "new answer", parent_id=question.id)
        repo.append_message(new)
        session = repo.select_leaf(session.id, old.id)
        text = export_markdown(repo, [session])
        document = export_json(repo, [session])
    assert "old answer" in text and "new answer" not in text
    read = read_import_file_text(tmp_path, document)
    with TinyDBRepository(tmp_path / "two") as target:
        import_sessions(target, read.sessions)
        copied = target.get_session(session.id)
        assert copied is not None and copied.current_leaf == old.id
        stored = target.messages(session.id)
        assert [(m.content, m.parent_id) for m in stored] == [
            ("first wording", question.parent_id),
            ("old answer", question.id),
            ("new answer", question.id),
        ]


def read_import_file_text(folder: Path, document: str):  # type: ignore[no-untyped-def]
    path = folder / "export.json"
    path.write_text(document, encoding="utf-8")
    return read_import_file(path, "assistant")


def test_close_open_fence_follows_commonmark() -> None:
    assert close_open_fence("```py\nx\n```") == "```py\nx\n```"
    assert close_open_fence("````\n```\nstill code") == "````\n```\nstill code\n````"
    assert close_open_fence("~~~\ncode\n") == "~~~\ncode\n~~~"
    assert close_open_fence("``` not `a fence`\ntext") == "``` not `a fence`\ntext"
    assert close_open_fence("```\nx\n``` trailing") == "```\nx\n``` trailing\n```"


def test_hostile_text_is_inert_in_markdown_and_exact_in_json(tmp_path: Path) -> None:
    evil = "\x1b]0;PWNED\x07 \x1b[2J \x9b31m \u202eevil"
    with TinyDBRepository(tmp_path / "history") as repo:
        session = repo.add_session(Session(role="assistant", title=f"t {evil}\nline"))
        repo.append_message(Message(session.id, "user", f"q {evil}", model=f"m{evil}"))
        markdown = export_markdown(repo, [session])
        exported = export_json(repo, [session])
        stored = repo.messages(session.id)
    for char in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert char not in markdown and char not in exported
    assert markdown.splitlines()[0].startswith("# t \\x1b]0;PWNED\\x07")  # visible, inert
    path = tmp_path / "evil.json"
    path.write_text(exported, encoding="utf-8")
    session_back, messages_back = read_import_file(path, "assistant").sessions[0]
    assert session_back.title == session.title and messages_back == stored


def test_export_file_names_are_safe_and_never_replace_a_file(tmp_path: Path) -> None:
    session = Session(role="assistant", title='../../etc/passwd "x"\n\x1b[2J', updated_at=0.0)
    name = export_file_name(session)
    assert "/" not in name and "\n" not in name and "\x1b" not in name and name.endswith(".md")
    first = write_new_file(tmp_path, name, "one")
    second = write_new_file(tmp_path, name, "two")
    assert first != second and first.parent == second.parent == tmp_path
    assert first.read_text() == "one" and second.read_text() == "two"
    assert second.name == name.removesuffix(".md") + "-2.md"


def test_chatgpt_export_imports_the_current_branch_once(tmp_path: Path) -> None:
    read = read_import_file(CHATGPT, "teacher")
    assert read.kind == "chatgpt"
    assert read.notes == ["conversation 4: no message tree (mapping); left out"]
    with TinyDBRepository(tmp_path / "history") as repo:
        outcomes = import_sessions(repo, read.sessions)
        assert [o.outcome for o in outcomes] == ["imported"] * 3
        by_title = {s.title: s for s in repo.list_sessions()}
        squares = by_title["Squaring numbers in Python"]
        assert squares.role == "teacher" and squares.titled
        assert squares.created_at == 1700000000.123456 and squares.updated_at == 1700000600.5
        messages = repo.messages(squares.id)
        assert [(m.role, m.content[:21]) for m in messages] == [
            ("user", "How do I square every"),
            ("assistant", "Use a list comprehens"),
            ("user", "And only the even one"),
            ("assistant", "Add a condition: `[n "),
        ]
        assert "```python\nsquares = [n * n for n in numbers]\n```" in messages[1].content
        assert [m.created_at for m in messages] == [
            1700000010.25,
            1700000020.75,
            1700000020.75,  # create_time None: the time before it
            1700000202.5,
        ]
        assert messages[1].model == "gpt-4o"
        text = " ".join(m.content for m in messages)
        for gone in ("FIRST DRAFT", "EDITED AWAY", "ANSWER TO THE EDITED", "print(", "Be brief"):
            assert gone not in text
        sky = repo.messages(by_title["Why is the sky blue?"].id)
        assert sky[0].content == "[image]\n\nExplain this photo of the sky."
        assert sky[1].reasoning == "Rayleigh scattering\nShorter wavelengths scatter more."
        assert sky[1].content == "Because of Rayleigh scattering." and sky[1].model == "o3"
        old = repo.messages(by_title["Old chat without a current node"].id)
        assert [m.content for m in old] == ["hello", "newer reply"]  # the newest leaf
        # Importing the same export again (as a zip, as ChatGPT sends it) adds nothing.
        archive = tmp_path / "export.zip"
        with zipfile.ZipFile(archive, "w") as handle:
            handle.write(CHATGPT, "conversations.json")
        again = import_sessions(repo, read_import_file(archive, "teacher").sessions)
        assert [o.outcome for o in again] == ["skipped"] * 3
        assert len(repo.list_sessions()) == 3


def test_a_chatgpt_conversation_continued_later_is_imported_beside_the_first(
    tmp_path: Path,
) -> None:
    data = json.loads(CHATGPT.read_text(encoding="utf-8"))[1:2]
    first = tmp_path / "first.json"
    first.write_text(json.dumps(data), encoding="utf-8")
    data[0]["mapping"]["ans-1"]["children"] = ["q-2"]
    data[0]["mapping"]["q-2"] = {
        "id": "q-2",
        "parent": "ans-1",
        "children": [],
        "message": {
            "id": "q-2",
            "author": {"role": "user"},
            "create_time": 1710000100.0,
            "content": {"content_type": "text", "parts": ["And at sunset?"]},
        },
    }
    data[0]["current_node"] = "q-2"
    later = tmp_path / "later.json"
    later.write_text(json.dumps(data), encoding="utf-8")
    with TinyDBRepository(tmp_path / "history") as repo:
        assert import_sessions(repo, read_import_file(first, "assistant").sessions)[0].outcome == (
            "imported"
        )
        assert import_sessions(repo, read_import_file(later, "assistant").sessions)[0].outcome == (
            "copied"
        )
        assert len(repo.list_sessions()) == 2


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"format": "chat-tui/sessions", "version": 1, "sessions": [', "not JSON (line 1"),
        (b'{"hello": "world"}', "not a chat-tui export or a ChatGPT"),
        (b"[1, 2, 3]", "not a chat-tui export or a ChatGPT"),
        (b'{"format": "chat-tui/sessions", "version": 99, "sessions": []}', "newer chat-tui"),
        (b'{"format": "chat-tui/sessions", "version": "1", "sessions": []}', "valid version"),
        (b'{"format": "chat-tui/sessions", "version": 1, "sessions": {}}', "not a list"),
        (
            b'{"format": "chat-tui/sessions", "version": 1, "sessions": [{"session": {}}]}',
            "session 1 is not a session record",
        ),
        (
            b'{"format": "chat-tui/sessions", "version": 1, "sessions": [{"session": '
            b'{"created_at": "soon"}, "messages": []}]}',
            "bad values",
        ),
        (
            b'{"session": {"id": "x"}, "messages": [{"role": "hacker", "content": "x"}]}',
            "unknown role",
        ),
        (
            b'{"session": {"id": "x"}, "messages": [{"role": "user", "completed_at": "x"}]}',
            "wrong type",
        ),
        (
            b'{"session": {"id": "x"}, "messages": [{"id": "m", "role": "user"}, '
            b'{"id": "m", "role": "assistant"}]}',
            "two messages with one id",
        ),
        (b"[" * 100_000, "nested too deeply"),
        (b"PK\x03\x04 not really a zip", "damaged zip"),
    ],
)
def test_a_bad_file_is_one_line_naming_it(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / 'bad "name"\n\x1b[2J.json'
    path.write_bytes(content)
    with pytest.raises(TransferError) as raised:
        read_import_file(path, "assistant")
    message = str(raised.value)
    assert reason in message and "\n" not in message and "\x1b" not in message
    assert message.startswith(str(tmp_path)) and "\\x1b[2J.json" in message


def test_missing_files_and_directories_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(TransferError, match="no such file"):
        read_import_file(tmp_path / "nope.json", "assistant")
    with pytest.raises(TransferError, match="is a directory"):
        read_import_file(tmp_path, "assistant")
    with pytest.raises(TransferError, match="not a regular file"):
        read_import_file(Path("/dev/zero"), "assistant")  # never read: it has no end


def test_import_reports_progress_and_keeps_new_fields(tmp_path: Path) -> None:
    with TinyDBRepository(tmp_path / "one") as source:
        sessions = [source.create_session("assistant", title=f"chat {n}") for n in range(5)]
        document = export_document(source, sessions)
    # A field a later chat-tui writes (a parent link, say) is passed through ``from_dict``.
    document["sessions"][0]["messages"] = [
        replace(Message(sessions[0].id, "user", "hi"), id="m1").to_dict() | {"future": 1}
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    seen: list[tuple[int, int]] = []
    with TinyDBRepository(tmp_path / "two") as target:
        import_sessions(
            target, read_import_file(path, "x").sessions, lambda d, t: seen.append((d, t))
        )
        assert [m.id for m in target.messages(sessions[0].id)] == ["m1"]
    assert seen == [(n, 5) for n in range(1, 6)]
