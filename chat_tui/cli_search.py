"""``chat-tui search QUERY``: the history search of ctrl+f, for scripts and the shell.

A module of its own, registered by :mod:`chat_tui.cli` with one line, so the command
and its output format live together. It reads the history through the same service
as the TUI (:class:`~chat_tui.services.history_search.HistorySearch`); every text it
prints has been through ``chat_tui.domain.text`` there, and the only escape codes
written are its own (bold matches, on a terminal).
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from chat_tui import cli_support as cli
from chat_tui.domain.text import clean_line

if TYPE_CHECKING:
    from chat_tui.services.history_search import SearchHit

#: How matches are marked on a terminal: bold and underlined (SGR), then reset.
MATCH_ON = "\x1b[1;4m"
MATCH_OFF = "\x1b[22;24m"


def marked_snippet(hit: SearchHit, styled: bool) -> str:
    """The hit's snippet, its matches in bold on a terminal (plain text otherwise)."""
    text = hit.snippet.text
    if not styled:
        return text
    parts: list[str] = []
    position = 0
    for start, end in hit.snippet.spans:
        parts.extend([text[position:start], MATCH_ON, text[start:end], MATCH_OFF])
        position = end
    parts.append(text[position:])
    return "".join(parts)


def format_hit(hit: SearchHit, styled: bool = False) -> str:
    """Two lines: date, role, title and ids; then the snippet, indented."""
    when = datetime.fromtimestamp(hit.created_at).strftime("%Y-%m-%d %H:%M")
    head = (
        f"{when}  {hit.role}  {hit.session_title}  [{hit.speaker}]  "
        f"session {clean_line(hit.session_id)}  message {clean_line(hit.message_id)}"
    )
    return f"{head}\n    {marked_snippet(hit, styled)}"


def register_search(app: typer.Typer) -> None:
    """Attach ``search`` to the typer app."""

    @app.command()
    def search(
        query: Annotated[list[str], typer.Argument(help="Words to find; quote a phrase.")],
        role: Annotated[
            str | None, typer.Option("--role", "-r", help="Only sessions of this role.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many.")] = 50,
    ) -> None:
        """Search every session of every role; newest matches first.

        Case and accents are ignored; Chinese, Japanese and Korean are matched by
        character pairs. A bare word matches as a prefix, "a quoted phrase" exactly.
        Exit status 1 when nothing matches.
        """
        from chat_tui.domain.text import terminal_safe_json
        from chat_tui.errors import ChatTuiError
        from chat_tui.services.history_search import HistorySearch

        text = " ".join(query)
        if not text.strip():
            cli.fail("the query is empty")
        settings = cli.load()
        searcher = HistorySearch(settings.history_dir)
        try:
            results = searcher.search(text, role, limit)
        except ChatTuiError as error:
            cli.fail(str(error), 1)
        finally:
            searcher.close()
        if as_json:
            typer.echo(
                terminal_safe_json(
                    {
                        "query": text,
                        "role": role,
                        "more": results.more,
                        "hits": [hit.to_dict() for hit in results.hits],
                    }
                )
            )
        else:
            styled = sys.stdout.isatty()
            for hit in results.hits:
                typer.echo(format_hit(hit, styled))
            if results.more:
                cli.note(f"more than {limit} matches; showing the newest (--limit to see more)")
        if not results.hits:
            raise typer.Exit(1)


__all__ = ["format_hit", "marked_snippet", "register_search"]
