"""``chat-tui sessions export`` and ``chat-tui sessions import``: the terminal around transfer.

Why a module of its own: the work is :mod:`chat_tui.services.transfer` (shared with
the TUI's "Export session" command); this is the presentation: arguments, where the
output goes, one line per file imported, progress on stderr, exit codes. Registered
onto the ``sessions`` group by :mod:`chat_tui.cli` with one call.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from chat_tui import cli_support as cli
from chat_tui.domain.text import clean_line
from chat_tui.errors import ChatTuiError

if TYPE_CHECKING:
    from chat_tui.services.transfer import Imported

#: An import of at least this many sessions shows its progress on stderr.
PROGRESS_FROM = 50


class ImportProgress:
    """``importing NAME: done/total`` on stderr: redrawn in place on a terminal, else
    a line at every tenth (so a log shows it is moving without a line per session)."""

    def __init__(self, name: str) -> None:
        self.name = clean_line(name)
        self.tty = sys.stderr.isatty()
        self._drawn = 0.0
        self._tenth = 0

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_FROM:
            return
        text = f"importing {self.name}: {done}/{total}"
        if self.tty:
            moment = time.monotonic()
            if done == total or moment - self._drawn >= 0.1:
                self._drawn = moment
                end = "\n" if done == total else ""
                print(f"\r{text}", end=end, file=sys.stderr, flush=True)
            return
        tenth = done * 10 // total
        if tenth > self._tenth:
            self._tenth = tenth
            print(text, file=sys.stderr, flush=True)


def _summary(path: Path, kind: str, outcomes: list[Imported]) -> str:
    counts = {name: sum(o.outcome == name for o in outcomes) for name in ("imported", "skipped")}
    copied = sum(o.outcome == "copied" for o in outcomes)
    what = "ChatGPT export" if kind == "chatgpt" else "chat-tui export"
    parts = [f"imported {counts['imported'] + copied}", f"already imported {counts['skipped']}"]
    if copied:
        parts.append(f"{copied} under a new id")
    return f"{clean_line(path)} ({what}): {', '.join(parts)}"


def register_transfer(sessions_app: typer.Typer) -> None:
    """Attach ``export`` and ``import`` to the ``sessions`` group."""

    @sessions_app.command("export")
    def sessions_export(
        session_id: Annotated[
            str | None, typer.Argument(help="The session to export (or --all).")
        ] = None,
        every: Annotated[bool, typer.Option("--all", help="Export every session.")] = False,
        fmt: Annotated[
            str | None,
            typer.Option(
                "--format",
                "-f",
                help="md (for reading) or json (the complete record, for import); "
                "default: json when -o ends in .json, else md.",
            ),
        ] = None,
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="Write to this file (default: standard output)."),
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Replace the -o file if it exists.")
        ] = False,
    ) -> None:
        """Export a session (or --all) as Markdown or as JSON that import reads back."""
        from chat_tui.services.transfer import export_json, export_markdown
        from chat_tui.storage.atomic import describe_os_error, write_atomically

        if (session_id is None) == (not every):
            cli.fail("give a session id or --all (not both)")
        chosen = fmt or ("json" if output and output.suffix.lower() == ".json" else "md")
        if chosen not in ("md", "json"):
            cli.fail(f"unknown format {chosen!r} (md or json)")
        to_stdout = output is None or str(output) == "-"
        if output is not None and not to_stdout and output.exists() and not force:
            cli.fail(f"{output} exists; choose another name, or --force to replace it")
        services = cli.open_app_services(cli.load())
        try:
            repository = services.repository
            if every:
                sessions = repository.list_sessions()
            else:
                found = repository.get_session(str(session_id))
                if found is None:
                    cli.fail(f"no session with id {session_id!r}", 1)
                sessions = [found]
            write = export_json if chosen == "json" else export_markdown
            text = write(repository, sessions)
        finally:
            services.close()
        if to_stdout:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        assert output is not None
        try:
            write_atomically(output, text.encode("utf-8"))
        except OSError as error:
            cli.fail(f"cannot write {output} ({describe_os_error(error)})", 1)
        count = len(sessions)
        cli.note(f"exported {count} session{'s' if count != 1 else ''} to {output}")

    @sessions_app.command("import")
    def sessions_import(
        files: Annotated[
            list[Path],
            typer.Argument(
                help="chat-tui JSON exports, or ChatGPT's conversations.json (or its zip)."
            ),
        ],
        role: Annotated[
            str | None,
            typer.Option(
                "--role", "-r", help="Role for ChatGPT conversations (default: default_role)."
            ),
        ] = None,
    ) -> None:
        """Import sessions; importing again adds nothing, and nothing stored is replaced."""
        from chat_tui.services.transfer import TransferError, import_sessions, read_import_file

        settings = cli.load()
        cli.check_data_dir(settings)
        failed = False
        imported: list[Imported] = []
        services = cli.open_app_services(settings)
        try:
            target = role or settings.default_role
            if target not in {r.name for r in services.roles}:
                cli.fail(f"unknown role {target!r} (chat-tui roles list shows them)")
            for path in files:
                try:
                    read = read_import_file(path, target)
                    for line in read.notes:
                        cli.note(f"{path}: {line}")
                    outcomes = import_sessions(
                        services.repository, read.sessions, ImportProgress(str(path))
                    )
                except TransferError as error:
                    print(f"chat-tui: {clean_line(error)}", file=sys.stderr, flush=True)
                    failed = True
                    continue
                except ChatTuiError as error:  # the history refused a write
                    print(f"chat-tui: {clean_line(path)}: {clean_line(error)}", file=sys.stderr)
                    failed = True
                    continue
                imported += outcomes
                typer.echo(_summary(path, read.kind, outcomes))
                for outcome in outcomes:
                    if outcome.outcome == "copied":
                        typer.echo(
                            f"  {clean_line(outcome.original_id)} holds other messages here: "
                            f"“{clean_line(outcome.session.title)}” imported as "
                            f"{clean_line(outcome.session.id)}"
                        )
            known = {r.name for r in services.roles}
            for unknown in sorted({o.session.role for o in imported} - known):
                cli.note(
                    f"sessions of role {unknown!r} were imported, but this chat-tui has no "
                    "such role: the TUI lists them once it exists (chat-tui roles add)"
                )
        finally:
            services.close()
        if failed:
            raise typer.Exit(1)


__all__ = ["ImportProgress", "register_transfer"]
