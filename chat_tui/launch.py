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
from typing import TYPE_CHECKING, NoReturn

from chat_tui.errors import ChatTuiError

if TYPE_CHECKING:
    from chat_tui.config import Settings
    from chat_tui.services.bootstrap import AppServices

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


class _Options:
    """Global options shared by every subcommand."""

    model: str | None = None
    base_url: str | None = None
    provider: str | None = None
    config: Path | None = None


OPTIONS = _Options()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error and exit (typer and click let SystemExit through)."""
    print(f"chat-tui: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def load() -> Settings:
    """The settings for the global options (a bad config is a one-line error)."""
    from chat_tui.config import load_settings
    from chat_tui.logs import setup_logging

    try:
        settings = load_settings(
            config_file=OPTIONS.config,
            provider=OPTIONS.provider,
            model=OPTIONS.model,
            base_url=OPTIONS.base_url,
        )
    except ChatTuiError as error:
        fail(str(error))
    # Every command logs to the file: without a handler, logging's last resort printed
    # warnings (a retried request, say) on stderr next to the command's own error line.
    setup_logging(settings)
    return settings


def open_app_services(settings: Settings) -> AppServices:
    """History, roles and the chat service (a broken history is a one-line error)."""
    from chat_tui.services.bootstrap import open_services

    try:
        return open_services(settings)
    except ChatTuiError as error:
        fail(str(error))


def run_tui() -> None:
    """Start the Textual app on the global options."""
    settings = load()
    services = open_app_services(settings)
    from chat_tui.tui.app import make_app
    from chat_tui.tui.gc_tuning import tune_gc

    app = make_app(services)
    tune_gc(freeze=True)
    try:
        app.run()
    finally:
        services.close()


def tui_only_options(argv: Sequence[str]) -> dict[str, str] | None:
    """``argv``'s options when it only starts the TUI; None when typer must parse it."""
    found: dict[str, str] = {}
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        # --long=value is one argument; for -m, like click, "=x" would be the value itself.
        name, has_value, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        key = TUI_OPTIONS.get(name)
        if key is None or (not has_value and not rest):
            return None
        found[key] = value if has_value else rest.pop(0)
    return found


def main() -> None:
    """Console-script entry point."""
    options = tui_only_options(sys.argv[1:])
    if options is None:
        from chat_tui.cli import app

        app()
        return
    OPTIONS.model = options.get("model")
    OPTIONS.base_url = options.get("base_url")
    OPTIONS.provider = options.get("provider")
    OPTIONS.config = Path(options["config"]) if "config" in options else None
    run_tui()
