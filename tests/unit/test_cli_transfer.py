"""``chat-tui sessions export`` / ``import`` end to end on real data dirs (typer's runner)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chat_tui import cli_transfer
from chat_tui.cli import app
from chat_tui.domain.models import Message, Session
from chat_tui.services.transfer import export_document
from chat_tui.storage.tinydb_repo import TinyDBRepository

CHATGPT = Path(__file__).parents[1] / "support" / "data" / "chatgpt_conversations.json"
EVIL = "\x1b]0;PWNED\x07\x1b[2J\x9b31m\u202e"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def history(isolated_home: Path) -> Path:
    return isolated_home / "xdg-data" / "chat-tui" / "history"


def stored(history: Path) -> dict[str, tuple[Session, list[Message]]]:
    with TinyDBRepository(history) as repo:
        return {s.id: (s, repo.messages(s.id)) for s in repo.list_sessions()}


def seed(history: Path) -> list[str]:
    with TinyDBRepository(history) as repo:
        ids = []
        for n in range(3):
            session = repo.add_session(
                Session(role="assistant", title=f"chat {n} {EVIL}", created_at=1e9 + n)
            )
            repo.append_message(Message(session.id, "user", f"question {n} {EVIL}"))
            repo.append_message(Message(session.id, "assistant", f"```py\nanswer {n}\n```"))
            ids.append(session.id)
        return ids


def test_export_all_as_json_then_import_into_another_data_dir(
    runner: CliRunner, history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(history)
    before = stored(history)
    out = tmp_path / "backup.json"
    done = runner.invoke(app, ["sessions", "export", "--all", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert "exported 3 sessions to" in done.stderr and done.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == "chat-tui/sessions"
    refused = runner.invoke(app, ["sessions", "export", "--all", "-o", str(out)])
    assert refused.exit_code == 2 and "exists" in refused.stderr  # never replaced unasked
    nowhere = runner.invoke(app, ["sessions", "export", "--all", "-o", str(out / "x.json")])
    assert nowhere.exit_code == 1 and f"cannot write {out / 'x.json'}" in nowhere.stderr

    other = tmp_path / "other-data"
    monkeypatch.setenv("CHAT_TUI_DATA_DIR", str(other))
    imported = runner.invoke(app, ["sessions", "import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert "imported 3, already imported 0" in imported.stdout
    assert stored(other / "history") == before
    again = runner.invoke(app, ["sessions", "import", str(out)])
    assert "imported 0, already imported 3" in again.stdout
    assert stored(other / "history") == before


def test_export_one_as_markdown_to_standard_output_is_inert(
    runner: CliRunner, history: Path
) -> None:
    first = seed(history)[0]
    done = runner.invoke(app, ["sessions", "export", first])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("# chat 0 \\x1b]0;PWNED")
    assert "```py\nanswer 0\n```" in done.stdout and "## User" in done.stdout
    for char in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert char not in done.output
    as_json = runner.invoke(app, ["sessions", "export", first, "--format", "json"])
    assert json.loads(as_json.stdout)["sessions"][0]["session"]["id"] == first
    assert "\x1b" not in as_json.stdout and "\x9b" not in as_json.stdout


def test_export_argument_mistakes_are_one_line(runner: CliRunner, history: Path) -> None:
    seed(history)
    for args, text in (
        ([], "give a session id or --all"),
        (["x", "--all"], "give a session id or --all"),
        (["--all", "--format", "pdf"], "unknown format 'pdf'"),
        ([f"nope{EVIL}"], "no session with id"),
    ):
        result = runner.invoke(app, ["sessions", "export", *args])
        assert result.exit_code in (1, 2) and text in result.stderr, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1 and "\x1b" not in result.stderr


def test_import_chatgpt_and_bad_files_each_one_line_and_the_rest_imported(
    runner: CliRunner, history: Path, tmp_path: Path
) -> None:
    seed(history)
    bad = tmp_path / "evil\x1b[2J\nname.json"
    bad.write_bytes(b"{not json")
    copy = tmp_path / "conversations.json"
    shutil.copy(CHATGPT, copy)
    result = runner.invoke(
        app, ["sessions", "import", str(bad), str(copy), str(tmp_path / "missing.json")]
    )
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if not line.startswith("chat-tui: note")]
    assert len(errors) == 2 and "not JSON" in errors[0] and "no such file" in errors[1]
    assert "\\x1b[2J\\x0aname.json" in errors[0] and "\x1b" not in result.output
    assert "no message tree" in result.stderr  # the broken conversation, as a note
    assert "(ChatGPT export): imported 3, already imported 0" in result.stdout
    with TinyDBRepository(history) as repo:
        assert len(repo.list_sessions()) == 6
        assert {s.role for s in repo.list_sessions()} == {"assistant"}
    unknown = runner.invoke(app, ["sessions", "import", str(copy), "--role", "nobody"])
    assert unknown.exit_code == 2 and "unknown role 'nobody'" in unknown.stderr


def test_sessions_of_a_role_not_defined_here_are_imported_with_a_note(
    runner: CliRunner, tmp_path: Path, isolated_home: Path
) -> None:
    with TinyDBRepository(tmp_path / "elsewhere") as repo:
        repo.add_session(Session(role="reviewer", title="Code review"))
        document = export_document(repo, repo.list_sessions())
    path = tmp_path / "review.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(app, ["sessions", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "role 'reviewer'" in result.stderr and "chat-tui roles add" in result.stderr


def test_a_large_import_shows_progress_on_stderr(
    runner: CliRunner, history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(CHATGPT.read_text(encoding="utf-8"))[0]
    conversations = []
    for n in range(20):
        item = json.loads(json.dumps(data))
        item["conversation_id"] = item["id"] = f"conv-{n}"
        conversations.append(item)
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(conversations), encoding="utf-8")
    monkeypatch.setattr(cli_transfer, "PROGRESS_FROM", 10)
    result = runner.invoke(app, ["sessions", "import", str(path)])
    assert result.exit_code == 0, result.output
    progress = [line for line in result.stderr.splitlines() if line.startswith("importing")]
    assert progress[0].endswith(": 2/20") and progress[-1].endswith(": 20/20")
    assert len(progress) == 10
