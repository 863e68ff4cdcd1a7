"""The ``chat-tui`` command line: the TUI by default, and subcommands.

typer is imported here, Textual only when the TUI actually starts, openai only
when a model is called, pymilvus only when the knowledge base is used.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from chat_tui.cli_commands import register
from chat_tui.cli_doctor import register_doctor
from chat_tui.cli_search import register_search
from chat_tui.cli_support import (  # re-exported: the names the commands share
    OPTIONS,
    check_data_dir,
    fail,
    load,
    note,
    one_line_errors,
    open_app_services,
    print_sessions,
    run_tui,
    storage_problem,
)
from chat_tui.cli_transfer import register_transfer
from chat_tui.errors import ChatTuiError

if TYPE_CHECKING:
    from chat_tui.config import Settings
    from chat_tui.domain.attachments import Attachment
    from chat_tui.domain.models import Message, Session
    from chat_tui.services.bootstrap import AppServices


class OneLineErrors(TyperGroup):
    """The root command group: whatever a subcommand raises ends as one line on stderr.

    Our own errors are already one line; an ``OSError`` (read-only or full disk) is
    named with its path; anything else is a bug whose traceback goes to the log file,
    never to the terminal (issue: "CLI commands print one-line errors, never a
    library's traceback").
    """

    def invoke(self, ctx: Any) -> Any:  # a click Context; typer vendors click privately
        invoke = super().invoke
        return one_line_errors(lambda: invoke(ctx))


app = typer.Typer(
    cls=OneLineErrors,
    name="chat-tui",
    help="A terminal AI chat client with retrieval over your own documents.",
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
sessions_app = typer.Typer(
    help="List, show (as text or --json), export, import and delete chat sessions.",
    no_args_is_help=True,
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
    earlier: Annotated[
        int | None,
        typer.Option(
            "--earlier",
            min=0,
            help="Send at most this many earlier messages of the session (to retry a "
            "question refused as too long for the model's context window).",
        ),
    ] = None,
    image: Annotated[
        list[Path] | None,
        typer.Option("--image", help="Attach this image (PNG, JPEG, GIF, WebP); repeat for more."),
    ] = None,
) -> None:
    """Ask one question without the TUI; the answer streams to standard output.

    Errors are one line on standard error with exit status 1; the answer text is
    cleaned of terminal controls, so it can be piped or shown as it is.
    """
    from chat_tui.config import missing_key_message

    text = " ".join(question)
    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        fail("the question is empty", 1)
    settings = load()
    # Before a session is created: no key, no hosted call and nothing stored.
    problem = missing_key_message(settings.provider)
    if problem:
        fail(problem, 1)
    check_data_dir(settings, 1)
    from chat_tui.cli_images import attach_images
    from chat_tui.domain.models import MessageStatus
    from chat_tui.domain.prompt import refused_as_too_long

    services = open_app_services(settings)
    try:  # every way out (an unknown role or session too) releases the history
        images = attach_images(services, image or ())
        target, answer = _ask(services, settings, text, role, session, no_kb, earlier, images)
    finally:
        services.close()
    if answer.status is MessageStatus.FAILED:
        problem = answer.error or "the request failed"
        fewer = services.chat.retry_earlier(target.id)
        if refused_as_too_long(answer) and fewer is not None:
            # The one-step fix, as a command: the same reduction ctrl+g makes in the TUI.
            problem += (
                f" To retry with fewer earlier turns: --session {target.id} --earlier {fewer}"
            )
        fail(problem, 1)


def _ask(
    services: AppServices,
    settings: Settings,
    text: str,
    role: str,
    session: str | None,
    no_kb: bool,
    earlier: int | None,
    images: tuple[Attachment, ...] = (),
) -> tuple[Session, Message]:
    """The session ``ask`` continues (or starts) and the answer; the caller closes."""
    import asyncio

    from chat_tui.domain.text import StreamSanitizer, clean_line
    from chat_tui.services.chat import AnswerSaved, ContentReceived, RetrievalFinished, ServiceEvent

    repo = services.repository
    if role not in {r.name for r in services.roles}:
        fail(f"unknown role {role!r} (chat-tui roles list shows them)")
    try:
        if session:
            found = repo.get_session(session)
            if found is None:
                fail(f"no session with id {session}")
            target = found
        else:
            target = repo.create_session(role)
    except ChatTuiError as error:
        fail(str(error), 1)
    except OSError as error:
        fail(storage_problem(error, settings.history_dir), 1)
    answer_clean = StreamSanitizer()
    wrote_text = False

    async def on_event(event: ServiceEvent) -> None:
        nonlocal wrote_text
        if isinstance(event, ContentReceived):
            piece = answer_clean.feed(event.text)
            if piece:
                wrote_text = True
                sys.stdout.write(piece)
                sys.stdout.flush()
        elif isinstance(event, RetrievalFinished) and event.notice:
            typer.echo(f"[knowledge base] {clean_line(event.summary())}", err=True)
        elif isinstance(event, AnswerSaved):
            tail = answer_clean.flush()
            if tail or wrote_text:
                sys.stdout.write(tail + "\n")
            for number, citation in enumerate(event.message.citations, start=1):
                typer.echo(f"[{number}] {clean_line(citation.label())}")

    async def run() -> Message:
        try:
            return await services.chat.send(
                target.id,
                text,
                on_event,
                use_retrieval=not no_kb,
                max_earlier=earlier,
                attachments=images,
            )
        finally:
            await services.chat.aclose()

    try:
        return target, asyncio.run(run())
    except ChatTuiError as error:
        fail(str(error), 1)
    except OSError as error:
        fail(storage_problem(error, settings.data_dir), 1)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command()
def locate(what: Annotated[str, typer.Argument(help="config | data")]) -> None:
    """Print where chat-tui keeps its config file or its data."""
    from chat_tui import locations
    from chat_tui.domain.text import clean_line

    if what == "config":
        typer.echo(clean_line(OPTIONS.config or locations.config_file()))
    elif what == "data":
        typer.echo(clean_line(locations.data_dir()))
    else:
        fail("locate takes 'config' or 'data'")


register(app, sessions_app, roles_app, kb_app)
register_transfer(sessions_app)
register_doctor(app)
register_search(app)


def main() -> None:
    """Run the typer app (``chat_tui.launch.main`` is the console script)."""
    app()


__all__ = [
    "OPTIONS",
    "app",
    "check_data_dir",
    "storage_problem",
    "fail",
    "kb_app",
    "load",
    "main",
    "note",
    "open_app_services",
    "print_sessions",
    "roles_app",
    "run_tui",
    "sessions_app",
]
