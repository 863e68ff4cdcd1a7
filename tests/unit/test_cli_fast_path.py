"""Starting the TUI skips typer's argument parsing; the shortcut must agree with typer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer.main

from chat_tui.cli import app
from chat_tui.cli_ask import ASK_FLAGS, ASK_OPTIONS, AskArgs, parse_ask
from chat_tui.cli_kb_search import KB_SEARCH_FLAGS, KB_SEARCH_OPTIONS, KbSearch, parse_kb_search
from chat_tui.launch import SESSIONS_LIST_OPTIONS, TUI_OPTIONS, fast_command, tui_only_options
from tests.support.fake_openai import Reply


def test_the_shortcut_knows_exactly_the_options_of_the_main_command() -> None:
    command = typer.main.get_command(app)
    typer_options = {
        opt: param.name for param in command.params if param.name != "version" for opt in param.opts
    }
    assert typer_options == TUI_OPTIONS


def test_plain_starts_are_parsed_and_everything_else_goes_to_typer() -> None:
    assert tui_only_options([]) == {}
    assert tui_only_options(["-m", "qwen", "--base-url=http://127.0.0.1:1/v1"]) == {
        "model": "qwen",
        "base_url": "http://127.0.0.1:1/v1",
    }
    assert tui_only_options(["--provider", "ollama", "--config", "c.toml"]) == {
        "provider": "ollama",
        "config": "c.toml",
    }
    for argv in (
        ["ingest", "docs"],
        ["--help"],
        ["--version"],
        ["--model"],  # missing value: typer says so
        ["--modle", "x"],  # a typo: typer says so
        ["-m", "x", "kb", "list"],
        ["-m=x"],  # click reads "=x" as the value: leave such spellings to typer
    ):
        assert tui_only_options(argv) is None, argv


def test_the_sessions_list_shortcut_knows_exactly_the_options_of_the_command() -> None:
    group = typer.main.get_command(app)
    sessions = group.commands["sessions"]  # type: ignore[attr-defined]
    command = sessions.commands["list"]
    typer_options = {opt: param.name for param in command.params for opt in param.opts}
    assert typer_options == SESSIONS_LIST_OPTIONS


def test_only_plain_version_and_sessions_list_spellings_skip_typer() -> None:
    # Each of these is typer's: help text, usage errors, global options, other commands.
    for argv in (
        [],
        ["--help"],
        ["--version", "x"],
        ["-m", "x", "--version"],
        ["sessions"],
        ["sessions", "list", "--help"],
        ["sessions", "list", "--role"],
        ["sessions", "list", "--rol", "x"],
        ["sessions", "list", "extra"],
        ["sessions", "show", "x"],
        ["roles", "list", "--help"],
        ["roles", "list", "x"],
    ):
        assert not fast_command(argv), argv


def test_the_roles_list_shortcut_is_taken_only_for_a_command_without_options() -> None:
    group = typer.main.get_command(app)
    command = group.commands["roles"].commands["list"]  # type: ignore[attr-defined]
    assert [p for p in command.params if p.name != "help"] == []


def test_the_kb_search_shortcut_knows_exactly_the_options_of_the_command() -> None:
    group = typer.main.get_command(app)
    command = group.commands["kb"].commands["search"]  # type: ignore[attr-defined]
    typer_options = {
        opt: param.name
        for param in command.params
        if param.name not in ("help", "query")
        for opt in param.opts
    }
    assert typer_options == {
        **{opt: name for opt, name in KB_SEARCH_OPTIONS.items()},
        **{opt: name for opt, name in KB_SEARCH_FLAGS.items()},
    }


def test_plain_kb_searches_are_read_and_everything_else_goes_to_typer() -> None:
    assert parse_kb_search(["wombat burrows"]) == KbSearch("wombat burrows")
    assert parse_kb_search(["--kb", "notes", "q", "-k", "3", "--json"]) == KbSearch(
        "q", kb="notes", top=3, as_json=True
    )
    assert parse_kb_search(["--top=12", "q", "--kb=x"]) == KbSearch("q", kb="x", top=12)
    for argv in (
        [],  # no query: typer says so
        ["--help"],
        ["q", "--help"],
        ["a", "b"],  # two queries
        ["-q"],
        ["q", "--top", "x"],  # not a number: typer says so
        ["q", "--top", "-1"],
        ["q", "--top", "\u0663"],  # a non-ASCII digit
        ["q", "--top"],  # missing value
        ["q", "--json=yes"],
        ["q", "--kb", "a", "--kb", "b"],  # twice
        ["q", "--topp", "3"],  # a typo
        ["--", "-q"],
    ):
        assert parse_kb_search(argv) is None, argv
        assert not fast_command(["kb", "search", *argv]), argv


def test_the_ask_shortcut_knows_exactly_the_options_of_the_command() -> None:
    command = typer.main.get_command(app).commands["ask"]  # type: ignore[attr-defined]
    typer_options = {
        opt: param.name
        for param in command.params
        if param.name not in ("help", "question")
        for opt in param.opts
    }
    assert typer_options == {**ASK_OPTIONS, **ASK_FLAGS}
    image = next(p for p in command.params if p.name == "image")
    assert image.multiple  # the one option parse_ask lets repeat


def test_plain_asks_are_read_and_everything_else_goes_to_typer() -> None:
    assert parse_ask(["what", "is", "it?"]) == AskArgs(("what", "is", "it?"))
    assert parse_ask(["-"]) == AskArgs(("-",))
    assert parse_ask(
        ["--no-kb", "-r", "teacher", "q", "--session=s1", "--earlier", "0", "--image", "a b.png"]
        + ["--image=c.png"]
    ) == AskArgs(
        ("q",),
        role="teacher",
        session="s1",
        no_kb=True,
        earlier=0,
        image=(Path("a b.png"), Path("c.png")),
    )
    for argv in (
        [],  # no question: typer says so
        ["--help"],
        ["q", "--help"],
        ["--no-kb"],
        ["q", "--earlier", "-1"],  # typer's min=0 says so
        ["q", "--earlier", "x"],
        ["q", "--earlier", "\u0663"],
        ["q", "--role"],  # missing value
        ["q", "-r", "a", "--role", "b"],  # twice
        ["q", "--no-kb=yes"],
        ["q", "--rol", "x"],  # a typo
        ["--", "-q"],
        ["-x"],
    ):
        assert parse_ask(argv) is None, argv
        assert not fast_command(["ask", *argv]), argv


def _run_chat_tui(
    argv: list[str], env: dict[str, str], modules: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``chat-tui argv`` as a process; the names of the modules it imported into ``modules``."""
    code = (
        "import atexit, sys\n"
        "out, sys.argv = sys.argv[1], ['chat-tui', *sys.argv[2:]]\n"
        "if out: atexit.register(lambda: open(out, 'w').write('\\n'.join(sys.modules)))\n"
        "from chat_tui.launch import main\n"
        "main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(modules or ""), *argv],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_plain_ask_answers_and_fails_as_typer_would(fake_openai: Any, tmp_path: Path) -> None:
    env = {
        "CHAT_TUI_DATA_DIR": str(tmp_path / "data"),
        "CHAT_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "OPENAI_BASE_URL": fake_openai.url,
        "OPENAI_API_KEY": "sk-fast-path-000000",
        "CHAT_TUI_MODEL": "fake-model",
        "PATH": os.environ.get("PATH", ""),
    }
    paths = []
    for run in (
        ["ask", "--no-kb", "-r", "teacher", "Why \x1b[31mred?"],  # the shortcut
        ["-m", "fake-model", "ask", "--no-kb", "-r", "teacher", "Why \x1b[31mred?"],  # typer
    ):
        fake_openai.script(Reply(content="Because \x1b]0;owned\x07 it is."))
        paths.append(tmp_path / f"modules-{len(paths)}")
        done = _run_chat_tui(run, env, paths[-1])
        assert done.returncode == 0, done.stderr
        assert done.stdout == "Because  it is.\n"  # the title escape never reaches the terminal
    shortcut, typer_path = (set(path.read_text().split()) for path in paths)
    assert "chat_tui.cli_ask" in shortcut and "typer._adapters" not in shortcut
    assert "chat_tui.cli_ask" not in typer_path and "typer._adapters" in typer_path
    sent = [r["messages"][-1]["content"] for r in fake_openai.requests]
    assert sent == ["Why \x1b[31mred?"] * 2
    assert fake_openai.requests[0]["messages"][0]["content"].startswith("You are a patient teacher")
    # Errors: the same one line and exit status either way.
    outcomes = set()
    for run in (["ask", "-r", "nobody", "hi"], ["-m", "fake-model", "ask", "-r", "nobody", "hi"]):
        done = _run_chat_tui(run, env)
        outcomes.add((done.returncode, done.stderr))
    assert len(outcomes) == 1
    code, stderr = outcomes.pop()
    assert (
        code == 2 and stderr == "chat-tui: unknown role 'nobody' (chat-tui roles list shows them)\n"
    )
    fake_openai.script(Reply(status=401))
    failed = _run_chat_tui(["ask", "--no-kb", "again"], env)
    assert failed.returncode == 1 and "401" in failed.stderr and "sk-fast" not in failed.stderr
    assert len(failed.stderr.splitlines()) == 1
