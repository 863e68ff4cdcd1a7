"""``chat-tui search``: finds a message in any role's session, as text or --json."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from chat_tui.cli import app
from chat_tui.domain.models import Message
from chat_tui.storage.tinydb_repo import TinyDBRepository


def _history(home: Path) -> Path:
    return home / "xdg-data" / "chat-tui" / "history"


def test_search_finds_a_message_in_another_roles_session(isolated_home: Path) -> None:
    with TinyDBRepository(_history(isolated_home)) as repo:
        mine = repo.create_session("assistant")
        repo.append_message(Message(mine.id, "user", "Nothing to see here"))
        other = repo.create_session("coder")
        wanted = Message(other.id, "assistant", "Use json.loads to parse the Résumé data")
        repo.append_message(wanted)

    runner = CliRunner()
    result = runner.invoke(app, ["search", "RESUME", "pars"])
    assert result.exit_code == 0, result.output
    head, snippet = result.output.rstrip("\n").split("\n")
    assert "coder" in head and other.id in head and wanted.id in head and "[assistant]" in head
    assert snippet.strip() == "Use json.loads to parse the Résumé data"  # not a tty: no SGR

    as_json = runner.invoke(app, ["search", "--json", "résumé"])
    data = json.loads(as_json.output)
    (hit,) = data["hits"]
    assert (hit["session_id"], hit["message_id"], hit["role"]) == (other.id, wanted.id, "coder")
    assert [hit["snippet"][a:b] for a, b in hit["spans"]] == ["Résumé"]

    only = runner.invoke(app, ["search", "--role", "assistant", "resume"])
    assert only.exit_code == 1 and only.output == ""


def test_search_output_is_sanitized(isolated_home: Path) -> None:
    with TinyDBRepository(_history(isolated_home)) as repo:
        session = repo.create_session("coder")
        repo.update_session(session.__class__(**{**session.to_dict(), "title": "\x1b]0;t\x07x"}))
        repo.append_message(Message(session.id, "user", "evil \x1b[2J\x9b31m payload\u202e"))
    result = CliRunner().invoke(app, ["search", "payload"])
    assert result.exit_code == 0
    for control in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert control not in result.output
    raw = CliRunner().invoke(app, ["search", "--json", "payload"]).output
    assert "\x1b" not in raw and "\x9b" not in raw
    assert json.loads(raw)["hits"][0]["session_title"] == "\\x1b]0;t\\x07x"


def test_an_empty_query_is_a_one_line_error(isolated_home: Path) -> None:
    result = CliRunner().invoke(app, ["search", "  "])
    assert result.exit_code == 2
    assert result.output.strip() == "chat-tui: the query is empty"
