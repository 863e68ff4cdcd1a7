"""What every ``chat-tui`` command shares: the global options, settings, services, errors.

Both the typer app (:mod:`chat_tui.cli`, :mod:`chat_tui.cli_commands`) and the typer-free
start (:mod:`chat_tui.launch`) use these, so they live below both: neither imports the
other's module to reach them, and nothing here imports typer.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from chat_tui.errors import ChatTuiError

if TYPE_CHECKING:
    from chat_tui.config import Settings
    from chat_tui.services.bootstrap import AppServices

T = TypeVar("T")


class _Options:
    """Global options shared by every subcommand."""

    model: str | None = None
    base_url: str | None = None
    provider: str | None = None
    config: Path | None = None


OPTIONS = _Options()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error and exit (typer and click let SystemExit through).

    The message may carry a server's or a file's text: it is shown through
    ``clean_line``, so an escape sequence in it is visible and never acts.
    """
    from chat_tui.domain.text import clean_line

    print(f"chat-tui: {clean_line(message)}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def note(message: str) -> None:
    """Print a one-line notice on stderr (standard output stays the command's data)."""
    from chat_tui.domain.text import clean_line

    print(f"chat-tui: note: {clean_line(message)}", file=sys.stderr, flush=True)


def one_line_errors(run: Callable[[], T]) -> T:
    """``run()``, whatever it raises ending as one line on stderr (and an exit status).

    Our own errors are already one line; an ``OSError`` (read-only or full disk) is
    named with its path; anything else is a bug whose traceback goes to the log file,
    never to the terminal. typer's own exceptions (usage errors, Exit, Abort) pass.
    The typer app's root group and the typer-free commands of :mod:`chat_tui.launch`
    both run their commands through this.
    """
    try:
        return run()
    except ChatTuiError as error:
        fail(str(error))
    except OSError as error:
        fail(storage_problem(error))
    except Exception as error:
        if type(error).__module__.split(".", 1)[0] == "typer":
            raise  # usage errors, Exit and Abort: typer prints and exits as it should
        from chat_tui import locations

        logging.getLogger("chat_tui.cli").exception("unexpected error in a command")
        fail(
            f"unexpected error ({type(error).__name__}: {error}); details in {locations.log_file()}"
        )


_WRITE_REASONS = {
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def storage_problem(error: OSError, where: Path | str | None = None) -> str:
    """One line for a file-system failure: the path, the reason and the way out.

    Args:
        error: what the file system raised.
        where: the path to name when the error carries none (e.g. the data dir).
    """
    from chat_tui.domain.text import clean_line

    path = error.filename or where or "the data directory"
    reason = _WRITE_REASONS.get(error.errno or 0) or error.strerror or type(error).__name__
    verb = "write to" if error.errno in _WRITE_REASONS else "use"
    return (
        f"cannot {verb} {clean_line(path)} ({reason}); free space or fix its permissions, "
        "or set CHAT_TUI_DATA_DIR to a writable folder"
    )


def check_data_dir(settings: Settings, code: int = 2) -> None:
    """Fail with one line unless the data dir can be created and written (a tiny probe).

    Commands that store something call it first, so a read-only or full disk is one
    line before any work, not a traceback half-way through.
    """
    data_dir = settings.data_dir
    probe = data_dir / f".write-probe-{os.getpid()}"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            with open(probe, "wb") as handle:
                handle.write(b"ok")
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            probe.unlink(missing_ok=True)
    except OSError as error:
        # Name the data dir, not the probe file inside it.
        fail(storage_problem(OSError(error.errno, error.strerror), data_dir), code)


def show_notices(notices: Iterable[str]) -> None:
    """Print what opening the history reported ("moved aside", "rebuilt"), as the TUI does."""
    for notice in notices:
        note(notice)


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


def open_app_services(settings: Settings, *, announce: bool = True) -> AppServices:
    """History, roles and the chat service (a broken history is a one-line error).

    Args:
        settings: the loaded settings.
        announce: print the notices from opening (repairs, moved-aside files) on
            stderr; the TUI passes False and shows them in the chat instead.
    """
    from chat_tui.services.bootstrap import open_services

    try:
        services = open_services(settings)
    except ChatTuiError as error:
        fail(str(error))
    except OSError as error:
        fail(storage_problem(error, settings.history_dir))
    if announce:
        show_notices(services.notices)
    return services


def run_tui() -> None:
    """Start the Textual app on the global options."""
    settings = load()
    services = open_app_services(settings, announce=False)
    from chat_tui.tui.app import make_app
    from chat_tui.tui.gc_tuning import tune_gc

    app = make_app(services)
    tune_gc(freeze=True)
    try:
        app.run()
    finally:
        services.close()


def print_sessions(role: str | None) -> None:
    """``chat-tui sessions list``: sessions, most recent first, one cleaned line each."""
    from datetime import datetime

    from chat_tui.domain.text import clean_line

    services = open_app_services(load())
    try:
        for s in services.repository.list_sessions(role):
            when = datetime.fromtimestamp(s.updated_at).strftime("%Y-%m-%d %H:%M")
            print(
                f"{clean_line(s.id)}  {when}  {clean_line(s.role):<12} "
                f"{s.message_count:>4} msgs  {clean_line(s.title)}",
                flush=True,
            )
    finally:
        services.close()


def print_roles() -> None:
    """``chat-tui roles list``: built-in and user roles, numbered; problems on stderr."""
    from chat_tui.domain.roles import load_roles
    from chat_tui.domain.text import clean_line

    roles, problems = load_roles(load().roles_dir)
    for n, role in enumerate(roles, 1):
        origin = "built-in" if role.builtin else "user"
        print(
            f"{n}. {clean_line(role.name):<14} {origin:<8} {clean_line(role.description)}",
            flush=True,
        )
    for problem in problems:
        print(f"warning: {clean_line(problem)}", file=sys.stderr, flush=True)
