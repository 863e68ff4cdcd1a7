"""Where ``chat-tui`` starts: the TUI straight away when the arguments only start it.

typer (~35 ms to import) and its argument parsing (which imports pydantic, ~100 ms)
serve the subcommands. A plain ``chat-tui [--model M] [--base-url U] [--provider P]
[--config F]`` needs neither, and start-up to the first frame has a 400 ms budget, so
those arguments are read here and anything else (a subcommand, ``--help``,
``--version``, a typo) is handed to the typer app in :mod:`chat_tui.cli`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from chat_tui.cli_argv import take_option
from chat_tui.cli_support import OPTIONS, print_roles, print_sessions, run_tui

#: The options of the main command, by flag. tests/unit/test_cli_fast_path.py keeps this
#: in step with ``chat_tui.cli.main_callback``.
TUI_OPTIONS = {
    "--model": "model",
    "-m": "model",
    "--base-url": "base_url",
    "--provider": "provider",
    "-p": "provider",
    "--config": "config",
}


def tui_only_options(argv: Sequence[str]) -> dict[str, str] | None:
    """``argv``'s options when it only starts the TUI; None when typer must parse it."""
    return _options(argv, TUI_OPTIONS)


#: ``chat-tui sessions list``'s options, by flag. tests/unit/test_cli_fast_path.py keeps
#: this in step with the typer command in ``chat_tui.cli_commands``.
SESSIONS_LIST_OPTIONS = {"--role": "role", "-r": "role"}


def fast_command(argv: Sequence[str]) -> bool:
    """Run ``argv`` without typer: ``--version``, a plain ``sessions list``, ``roles list``,
    ``kb search`` (:mod:`chat_tui.cli_kb_search`) and ``ask`` (:mod:`chat_tui.cli_ask`,
    typer imported but its parsing skipped).

    typer's parsing imports pydantic (~100 ms of a 300 ms budget); these commands are
    run from scripts and prompts, so their simple spellings are read here. Anything
    else (``--help``, a typo, a missing value) returns False and typer handles it, with
    its own messages.
    """
    if list(argv) == ["--version"]:
        from chat_tui import __version__

        print(__version__, flush=True)
        return True
    if list(argv) == ["roles", "list"]:
        print_roles()
        return True
    if list(argv[:1]) == ["ask"]:
        from chat_tui.cli_ask import parse_ask, run_ask

        ask = parse_ask(argv[1:])
        if ask is None:
            return False
        run_ask(ask)
        return True
    if list(argv[:2]) == ["kb", "search"]:
        from chat_tui.cli_kb_search import parse_kb_search, run_kb_search

        search = parse_kb_search(argv[2:])
        if search is None:
            return False
        run_kb_search(search)
        return True
    if list(argv[:2]) != ["sessions", "list"]:
        return False
    found = _options(argv[2:], SESSIONS_LIST_OPTIONS)
    if found is None:
        return False
    print_sessions(found.get("role"))
    return True


def _options(argv: Sequence[str], table: dict[str, str]) -> dict[str, str] | None:
    """``argv`` read as options of ``table`` with values; None unless every one is plain."""
    found: dict[str, str] = {}
    rest = list(argv)
    while rest:
        option = take_option(rest.pop(0), rest, {}, table)
        if option is None:
            return None
        key, value = option
        found[key] = str(value)  # no flags in ``table``: always a value
    return found


def main() -> None:
    """Console-script entry point."""
    if fast_command(sys.argv[1:]):
        return
    options = tui_only_options(sys.argv[1:])
    if options is None:
        from chat_tui.cli import app

        app()
        return
    from chat_tui.tui.gc_tuning import pause_gc_for_start_up

    pause_gc_for_start_up()  # run_tui turns it on again (tune_gc) before the app runs
    OPTIONS.model = options.get("model")
    OPTIONS.base_url = options.get("base_url")
    OPTIONS.provider = options.get("provider")
    OPTIONS.config = Path(options["config"]) if "config" in options else None
    run_tui()
