"""Subcommands: sessions, roles, kb, ingest, registered onto the typer app by cli.py.

They reach the shared options and helpers in :mod:`chat_tui.cli_support`, never
:mod:`chat_tui.cli` or :mod:`chat_tui.launch`, so the command modules form no cycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from chat_tui import cli_support as cli
from chat_tui.cli_kb_search import KbSearch, run_kb_search
from chat_tui.domain.text import clean_line, clean_text, terminal_safe_json
from chat_tui.errors import ChatTuiError

if TYPE_CHECKING:
    from chat_tui.domain.models import Session
    from chat_tui.services.bootstrap import AppServices


@contextmanager
def _services() -> Iterator[AppServices]:
    """History, roles and chat for one command, closed when it ends."""
    services = cli.open_app_services(cli.load())
    try:
        yield services
    finally:
        services.close()


def _session_or_fail(services: AppServices, session_id: str) -> Session:
    session = services.repository.get_session(session_id)
    if session is None:
        cli.fail(f"no session with id {session_id!r}", 1)
    return session


def register(
    app: typer.Typer, sessions_app: typer.Typer, roles_app: typer.Typer, kb_app: typer.Typer
) -> None:
    """Attach every subcommand."""
    # ------------------------------------------------------------------ sessions

    @sessions_app.command("list")
    def sessions_list(role: Annotated[str | None, typer.Option("--role", "-r")] = None) -> None:
        """List sessions, most recent first."""
        cli.print_sessions(role)

    @sessions_app.command("show")
    def sessions_show(
        session_id: str, as_json: Annotated[bool, typer.Option("--json")] = False
    ) -> None:
        """Print a session's messages (Markdown, or JSON with --json)."""
        with _services() as services:
            session = _session_or_fail(services, session_id)
            messages = services.repository.messages(session_id)
            if as_json:
                typer.echo(
                    terminal_safe_json(
                        {"session": session.to_dict(), "messages": [m.to_dict() for m in messages]}
                    )
                )
                return
            typer.echo(f"# {clean_line(session.title)}  ({clean_line(session.role)})\n")
            from chat_tui.domain.branches import visible_path

            # The branch shown in the TUI; --json above keeps every branch (parent_id).
            for m in visible_path(messages, session.current_leaf):
                typer.echo(
                    f"## {clean_line(m.role)}"
                    + (f" [{m.status.value}]" if m.status.value != "complete" else "")
                )
                typer.echo(clean_text(m.content) + "\n")
                for attachment in m.attachments:
                    typer.echo(f"[image: {attachment.label()}]\n")
                if m.error:
                    typer.echo(f"(error: {clean_line(m.error)})\n")
                for n, c in enumerate(m.citations, 1):
                    typer.echo(f"[{n}] {clean_line(c.label())}")

    @sessions_app.command("delete")
    def sessions_delete(
        session_id: str, yes: Annotated[bool, typer.Option("--yes", "-y")] = False
    ) -> None:
        """Delete a session and its history."""
        cli.check_data_dir(cli.load())
        with _services() as services:
            session = _session_or_fail(services, session_id)
            if not yes and not typer.confirm(f"Delete “{clean_line(session.title)}”?"):
                raise typer.Exit(1)
            services.repository.delete_session(session_id)
            typer.echo(f"deleted {clean_line(session_id)}")

    # ------------------------------------------------------------------ roles

    @roles_app.command("list")
    def roles_list() -> None:
        """List roles (built-in and yours)."""
        cli.print_roles()

    @roles_app.command("add")
    def roles_add(
        name: str,
        system_prompt: Annotated[str, typer.Option("--prompt", help="The system prompt.")],
        description: Annotated[str, typer.Option("--description", "-d")] = "",
        model: Annotated[str | None, typer.Option("--model")] = None,
        temperature: Annotated[float | None, typer.Option("--temperature")] = None,
        knowledge_base: Annotated[str | None, typer.Option("--kb")] = None,
    ) -> None:
        """Add (or replace) a role as a file in the config dir."""
        from chat_tui.domain.models import Role
        from chat_tui.services.roles import add_role

        settings = cli.load()
        try:
            path = add_role(
                settings.roles_dir,
                Role(
                    name=name,
                    system_prompt=system_prompt,
                    description=description,
                    model=model,
                    temperature=temperature,
                    knowledge_base=knowledge_base,
                ),
            )
        except ChatTuiError as error:
            cli.fail(str(error))
        typer.echo(f"saved {clean_line(path)}")

    # ------------------------------------------------------------------ ingest + kb

    @app.command()
    def ingest(
        paths: Annotated[list[Path], typer.Argument(help="Files and directories to add.")],
        kb: Annotated[str, typer.Option("--kb", help="Knowledge base name.")] = "",
        include: Annotated[
            list[str] | None,
            typer.Option("--include", help="Only files matching this glob (repeatable)."),
        ] = None,
        exclude: Annotated[
            list[str] | None,
            typer.Option("--exclude", help="Skip files matching this glob (repeatable)."),
        ] = None,
        prune: Annotated[
            bool,
            typer.Option(
                "--prune",
                help="Remove stored files under PATHs that no longer exist on disk "
                "(files filtered out by --include/--exclude/.gitignore are kept).",
            ),
        ] = False,
        rebuild: Annotated[
            bool,
            typer.Option(
                "--rebuild",
                help="Drop the knowledge base and embed everything again. It is dropped only "
                "once files are found and the embedder and store answer; a failure after "
                "that leaves the files finished so far (run it again to finish).",
            ),
        ] = False,
        follow_links: Annotated[
            bool,
            typer.Option(
                "--follow-links",
                help="Follow symbolic links that lead out of PATHs (by default they are "
                "skipped with a reason; links inside PATHs are always followed).",
            ),
        ] = False,
    ) -> None:
        """Add documents to the knowledge base (incremental: unchanged files are skipped)."""
        from chat_tui.cli_ingest import run_ingest

        settings = cli.load()
        cli.check_data_dir(settings)
        name = kb or settings.retrieval.knowledge_base
        code = run_ingest(
            settings, paths, name, include or [], exclude or [], prune, rebuild, follow_links
        )
        raise typer.Exit(code)

    @kb_app.command("list")
    def kb_list() -> None:
        """List knowledge bases."""
        from chat_tui.services.knowledge import legacy_notice, list_knowledge_bases

        try:
            settings = cli.load()
            for name in list_knowledge_bases(settings):
                typer.echo(clean_line(name))
            notice = legacy_notice(settings)
            if notice:
                typer.echo(clean_line(notice), err=True)
        except ChatTuiError as error:
            cli.fail(clean_line(error))

    @kb_app.command("stats")
    def kb_stats(kb: Annotated[str, typer.Option("--kb")] = "") -> None:
        """Files, chunks and settings of a knowledge base."""
        from chat_tui.services.knowledge import kb_stats as stats

        settings = cli.load()
        try:
            for key, value in stats(settings, kb or settings.retrieval.knowledge_base).items():
                typer.echo(f"{clean_line(key)}: {clean_line(value)}")
        except ChatTuiError as error:
            cli.fail(clean_line(error))

    @kb_app.command("search")
    def kb_search(
        query: str,
        kb: Annotated[str, typer.Option("--kb")] = "",
        top: Annotated[int, typer.Option("--top", "-k")] = 5,
        as_json: Annotated[
            bool,
            typer.Option(
                "--json",
                help="Print one JSON array of hits (source, location, heading, lines, page, "
                "anchor, score, text, knowledge_base) for scripts.",
            ),
        ] = False,
    ) -> None:
        """Search the knowledge base as the chat would."""
        run_kb_search(KbSearch(query=query, kb=kb, top=top, as_json=as_json))

    @kb_app.command("remove")
    def kb_remove(path: Path, kb: Annotated[str, typer.Option("--kb")] = "") -> None:
        """Remove a file's chunks, or those of every stored file under a folder."""
        from chat_tui.services.knowledge import remove_source

        settings = cli.load()
        cli.check_data_dir(settings)
        try:
            removed = remove_source(settings, kb or settings.retrieval.knowledge_base, path)
        except ChatTuiError as error:
            cli.fail(clean_line(error))
        if not removed.sources:
            cli.fail(f"{clean_line(path)} is not in the knowledge base", 1)
        if removed.sources == [str(path.expanduser().resolve())]:
            typer.echo(f"removed {removed.chunks} chunks of {clean_line(path)}")
        else:
            count = len(removed.sources)
            typer.echo(
                f"removed {count} file{'s' if count != 1 else ''} "
                f"({removed.chunks} chunks) under {clean_line(path)}"
            )

    @kb_app.command("stop")
    def kb_stop() -> None:
        """Stop the local Milvus Lite server now (it also stops by itself when idle)."""
        from chat_tui.retrieval.milvus_server import stop_local_server

        settings = cli.load()
        stopped = stop_local_server(settings.knowledge_dir)
        typer.echo(
            "stopped the local Milvus Lite server"
            if stopped
            else "no local Milvus Lite server was running"
        )

    @kb_app.command("drop")
    def kb_drop(name: str, yes: Annotated[bool, typer.Option("--yes", "-y")] = False) -> None:
        """Delete a whole knowledge base."""
        from chat_tui.services.knowledge import drop

        settings = cli.load()
        cli.check_data_dir(settings)
        if not yes and not typer.confirm(
            f"Drop knowledge base {clean_line(name)!r} and all its chunks?"
        ):
            raise typer.Exit(1)
        try:
            drop(settings, name)
        except ChatTuiError as error:
            cli.fail(str(error))
        typer.echo(f"dropped {clean_line(name)}")
