"""The ``chat-tui`` command line: the TUI by default, and subcommands.

typer is imported here, Textual only when the TUI actually starts, openai only
when a model is called, pymilvus only when the knowledge base is used.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from chat_tui.errors import ChatTuiError
from chat_tui.launch import (  # re-exported for the subcommands
    OPTIONS,
    TUI_OPTIONS,
    fail,
    load,
    open_app_services,
    run_tui,
    tui_only_options,
)

if TYPE_CHECKING:
    from chat_tui.domain.models import Message

app = typer.Typer(
    name="chat-tui",
    help="A terminal AI chat client with retrieval over your own documents.",
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
sessions_app = typer.Typer(
    help="List, show (as text or --json) and delete chat sessions.", no_args_is_help=True
)
roles_app = typer.Typer(help="List and add roles (system-prompt personas).", no_args_is_help=True)
kb_app = typer.Typer(help="Inspect and manage the knowledge base.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")
app.add_typer(roles_app, name="roles")
app.add_typer(kb_app, name="kb")


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model name (beats CHAT_TUI_MODEL).")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="OpenAI-compatible endpoint (beats OPENAI_BASE_URL)."),
    ] = None,
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Provider profile from config.toml.")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Use this config.toml.")] = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """Start the chat TUI (no subcommand), or run a subcommand."""
    if version:
        from chat_tui import __version__

        typer.echo(__version__)
        raise typer.Exit()
    OPTIONS.model, OPTIONS.base_url, OPTIONS.provider, OPTIONS.config = (
        model,
        base_url,
        provider,
        config,
    )
    if ctx.invoked_subcommand is None:
        run_tui()


@app.command()
def ask(
    question: Annotated[
        list[str], typer.Argument(help="The question (or '-' to read standard input).")
    ],
    role: Annotated[str, typer.Option("--role", "-r", help="Role to ask as.")] = "assistant",
    session: Annotated[
        str | None, typer.Option("--session", "-s", help="Continue this session id.")
    ] = None,
    no_kb: Annotated[bool, typer.Option("--no-kb", help="Skip knowledge-base retrieval.")] = False,
) -> None:
    """Ask one question without the TUI; the answer streams to standard output."""
    text = " ".join(question)
    if text == "-":
        text = sys.stdin.read()
    settings = load()
    services = open_app_services(settings)
    from chat_tui.domain.models import MessageStatus
    from chat_tui.services.chat import AnswerSaved, ContentReceived, RetrievalFinished, ServiceEvent

    repo = services.repository
    if role not in {r.name for r in services.roles}:
        services.close()
        fail(f"unknown role {role!r} (chat-tui roles list shows them)")
    try:
        if session:
            target = repo.get_session(session)
            if target is None:
                fail(f"no session with id {session}")
        else:
            target = repo.create_session(role)
    except ChatTuiError as error:
        services.close()
        fail(str(error))

    async def on_event(event: ServiceEvent) -> None:
        if isinstance(event, ContentReceived):
            sys.stdout.write(event.text)
            sys.stdout.flush()
        elif isinstance(event, RetrievalFinished) and event.notice:
            typer.echo(f"[knowledge base] {event.summary()}", err=True)
        elif isinstance(event, AnswerSaved):
            sys.stdout.write("\n")
            for number, citation in enumerate(event.message.citations, start=1):
                typer.echo(f"[{number}] {citation.label()}")

    async def run() -> Message:
        try:
            return await services.chat.send(target.id, text, on_event, use_retrieval=not no_kb)
        finally:
            await services.chat.aclose()

    try:
        answer = asyncio.run(run())
    except ChatTuiError as error:
        fail(str(error))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    finally:
        services.close()
    if answer.status is MessageStatus.FAILED:
        fail(answer.error or "the request failed", 1)


@app.command()
def locate(what: Annotated[str, typer.Argument(help="config | data")]) -> None:
    """Print where chat-tui keeps its config file or its data."""
    from chat_tui import locations

    if what == "config":
        typer.echo(str(OPTIONS.config or locations.config_file()))
    elif what == "data":
        typer.echo(str(locations.data_dir()))
    else:
        fail("locate takes 'config' or 'data'")


from chat_tui.cli_commands import register  # noqa: E402

register(app, sessions_app, roles_app, kb_app)


def main() -> None:
    """Run the typer app (``chat_tui.launch.main`` is the console script)."""
    app()


__all__ = [
    "OPTIONS",
    "TUI_OPTIONS",
    "app",
    "fail",
    "kb_app",
    "load",
    "main",
    "open_app_services",
    "roles_app",
    "run_tui",
    "sessions_app",
    "tui_only_options",
]
