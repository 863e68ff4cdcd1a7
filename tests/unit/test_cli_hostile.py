"""The hostile-string table through every CLI print path: nothing a terminal acts on gets out.

Titles, message text, stored citations, role files, paths, server answers and server
error texts all carry escape sequences (OSC/CSI/DCS), BEL, backspace, a bare CR, the
8-bit CSI, bidi overrides and Rich markup. Each command's whole output (stdout and
stderr) must hold none of those bytes, and markup must be shown literally.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chat_tui.cli import app
from chat_tui.domain.models import Citation, Message, MessageStatus
from chat_tui.storage.tinydb_repo import TinyDBRepository
from tests.support.fake_openai import FakeOpenAI, Reply

HOSTILE = {
    "osc-title": "\x1b]0;PWNED\x07",
    "csi-clear": "\x1b[2J\x1b[H",
    "dcs": "\x1bP1;2|payload\x1b\\",
    "bel": "ding\x07",
    "backspace": "abc\x08\x08\x08xyz",
    "bare-cr": "safe\rEVIL",
    "c1-csi": "\x9b31mred",
    "c1-osc": "\x9d0;t\x9c",
    "bidi": "\u202eevil\u202c \u2066iso\u2069",
    "markup": "[red]x[/]",
    "link": "[link=file:///etc/passwd]click[/link]",
}
ALL = " | ".join(HOSTILE.values())
# Server error texts are cut to 200 characters: markup first so it is inside the cut.
ERROR_TEXT = f"{HOSTILE['link']} {HOSTILE['markup']} {ALL}"
FORBIDDEN = ["\x1b", "\x07", "\x08", "\r", "\x9b", "\x9d", "\x9c", "\u202e", "\u2066", "\u2069"]
LITERAL_MARKUP = ["[red]x[/]", "[link=file:///etc/passwd]"]


def assert_safe(output: str, *, markup: bool = True) -> None:
    for char in FORBIDDEN:
        assert char not in output, f"{char!r} reached the terminal: {output!r}"
    if markup:
        for text in LITERAL_MARKUP:
            assert text in output, f"{text!r} not shown literally: {output!r}"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def data_dir(isolated_home: Path) -> Path:
    return isolated_home / "xdg-data" / "chat-tui"


@pytest.fixture
def hostile_session(data_dir: Path) -> Iterator[str]:
    """A stored session whose title, texts, error and citations are all hostile."""
    repo = TinyDBRepository(data_dir / "history")
    try:
        session = repo.create_session("assistant", title=f"title {ALL}")
        repo.append_message(Message(session_id=session.id, role="user", content=f"q {ALL}"))
        repo.append_message(
            Message(
                session_id=session.id,
                role="assistant",
                content=f"answer {ALL}\nsecond line",
                status=MessageStatus.FAILED,
                error=f"server said {ALL}",
                citations=(
                    Citation(source=f"/docs/{HOSTILE['osc-title']}notes.md", heading=ALL),
                    Citation(source=f"/docs/{HOSTILE['markup']}.md", heading="", line_start=3),
                ),
            )
        )
        yield session.id
    finally:
        repo.close()


@pytest.fixture
def local_fake(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    return fake_openai


def test_sessions_list_shows_hostile_titles_inert(runner: CliRunner, hostile_session: str) -> None:
    result = runner.invoke(app, ["sessions", "list"])
    assert result.exit_code == 0, result.output
    assert hostile_session in result.output and "title " in result.output
    assert_safe(result.output)
    assert len(result.output.strip().splitlines()) == 1  # a CR or newline cannot add rows


def test_sessions_show_cleans_text_titles_errors_and_citations(
    runner: CliRunner, hostile_session: str
) -> None:
    result = runner.invoke(app, ["sessions", "show", hostile_session])
    assert result.exit_code == 0, result.output
    assert_safe(result.output)
    assert "answer " in result.output and "second line" in result.output
    assert "\\x1b]0;PWNED\\x07notes.md" in result.output  # the citation, made visible
    assert "server said" in result.output


def test_sessions_show_json_is_exact_and_inert(runner: CliRunner, hostile_session: str) -> None:
    result = runner.invoke(app, ["sessions", "show", hostile_session, "--json"])
    assert result.exit_code == 0, result.output
    assert_safe(result.output)
    data = json.loads(result.output)
    assert data["session"]["title"] == f"title {ALL}"  # nothing lost: escaped, not removed
    assert data["messages"][1]["citations"][0]["heading"] == ALL


def test_error_lines_show_hostile_input_inert(
    runner: CliRunner, hostile_session: str, local_fake: FakeOpenAI
) -> None:
    missing = runner.invoke(app, ["sessions", "show", f"nope{ALL}"])
    assert missing.exit_code == 1 and "no session with id" in missing.output
    assert_safe(missing.output)
    assert len(missing.output.strip().splitlines()) == 1
    role = runner.invoke(app, ["ask", "--no-kb", "--role", f"r{ALL}", "hi"])
    assert role.exit_code != 0 and "unknown role" in role.output
    assert_safe(role.output)


def test_roles_list_cleans_role_files(runner: CliRunner, isolated_home: Path) -> None:
    roles = isolated_home / "xdg-config" / "chat-tui" / "roles"
    roles.mkdir(parents=True)
    description = json.dumps(f"desc {ALL}")  # a TOML basic string with \u escapes
    (roles / "evil.toml").write_text(
        f'name = "evil"\ndescription = {description}\nsystem_prompt = "p"\n', encoding="utf-8"
    )
    (roles / "broken.toml").write_text(f"name = {json.dumps(ALL)}\n", encoding="utf-8")
    result = runner.invoke(app, ["roles", "list"])
    assert result.exit_code == 0, result.output
    assert "evil" in result.output and "desc " in result.output and "broken.toml" in result.output
    assert_safe(result.output)


def test_locate_shows_a_hostile_path_inert(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / f"cfg{HOSTILE['osc-title']}{HOSTILE['markup']}.toml"
    result = runner.invoke(app, ["--config", str(path), "locate", "config"])
    assert result.exit_code == 0 and "cfg\\x1b]0;PWNED\\x07" in result.output
    assert_safe(result.output, markup=False)
    assert HOSTILE["markup"] in result.output


def test_a_hostile_config_path_in_an_error_is_inert(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / f"c{HOSTILE['csi-clear']}.toml"
    path.write_text("[retreival]\n", encoding="utf-8")
    result = runner.invoke(app, ["--config", str(path), "roles", "list"])
    assert result.exit_code == 2 and "did you mean [retrieval]" in result.output
    assert_safe(result.output, markup=False)


def test_ask_prints_a_hostile_answer_inert(runner: CliRunner, local_fake: FakeOpenAI) -> None:
    local_fake.script(Reply(content=f"Answer: {ALL} end.", chunk_chars=3))
    result = runner.invoke(app, ["ask", "--no-kb", "question"])
    assert result.exit_code == 0, result.output
    assert "Answer: " in result.output and " end." in result.output
    assert_safe(result.output)


def test_ask_prints_a_hostile_server_error_inert(runner: CliRunner, local_fake: FakeOpenAI) -> None:
    local_fake.script(*[Reply(status=500, error_message=f"boom {ERROR_TEXT}")] * 5)
    result = runner.invoke(app, ["ask", "--no-kb", "question"])
    assert result.exit_code == 1, result.output
    assert "boom" in result.output
    assert_safe(result.output)
    assert len(result.output.strip().splitlines()) == 1


def test_ask_and_kb_search_show_a_hostile_heading_inert(
    runner: CliRunner, local_fake: FakeOpenAI, tmp_path: Path, data_dir: Path
) -> None:
    from chat_tui.retrieval.milvus_server import stop_local_server

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(
        f"# Capybara {ERROR_TEXT}\n\nThe capybara festival is held every spring.\n",
        encoding="utf-8",
    )
    try:
        ingested = runner.invoke(app, ["ingest", str(docs)])
        assert ingested.exit_code == 0, ingested.output
        found = runner.invoke(app, ["kb", "search", "capybara festival"])
        assert found.exit_code == 0 and "guide.md" in found.output, found.output
        assert_safe(found.output)
        local_fake.script(Reply(content="It is in spring."))
        asked = runner.invoke(app, ["ask", "When is the capybara festival?"])
        assert asked.exit_code == 0, asked.output
        assert "It is in spring." in asked.output and "[1] " in asked.output, asked.output
        assert_safe(asked.output)
    finally:
        stop_local_server(data_dir / "knowledge")


def _ask_subprocess(home: Path, fake: FakeOpenAI, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "CHAT_TUI_", "JINA_", "DEEPSEEK_", "DASHSCOPE_"))
    }
    env.update(
        XDG_DATA_HOME=str(home / "xdg-data"),
        XDG_CONFIG_HOME=str(home / "xdg-config"),
        OPENAI_BASE_URL=fake.url,
    )
    return subprocess.run(
        [sys.executable, "-m", "chat_tui", "ask", "--no-kb", *args],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_ask_into_a_pipe_prints_clean_text_and_one_line_errors(
    isolated_home: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(
        Reply(content=f"Piped {ALL} answer.", chunk_chars=2),
        *[Reply(status=503, error_message=f"down {ERROR_TEXT}")] * 5,
    )
    ok = _ask_subprocess(isolated_home, fake_openai, "first")
    assert ok.returncode == 0, ok.stderr
    out = ok.stdout.decode("utf-8")
    assert out.startswith("Piped ") and out.endswith("answer.\n")
    assert_safe(out)
    assert ok.stderr == b""

    failed = _ask_subprocess(isolated_home, fake_openai, "second")
    assert failed.returncode == 1
    err = failed.stderr.decode("utf-8")
    assert err.startswith("chat-tui: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "down" in err
    assert_safe(err)
    assert failed.stdout == b""
