"""Starting the TUI skips typer's argument parsing; the shortcut must agree with typer."""

from __future__ import annotations

import typer.main

from chat_tui.cli import app
from chat_tui.cli_kb_search import KB_SEARCH_FLAGS, KB_SEARCH_OPTIONS, KbSearch, parse_kb_search
from chat_tui.launch import SESSIONS_LIST_OPTIONS, TUI_OPTIONS, fast_command, tui_only_options


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
