"""``chat-tui kb search``: reading its plain spellings without typer, and running it.

Why a module of its own: scripts call ``kb search`` over and over, and typer's parsing
imports pydantic (~100-400 ms here of a 300 ms start-up budget) before any search
starts. :mod:`chat_tui.launch` reads the plain spellings with :func:`parse_kb_search`
and the typer command in :mod:`chat_tui.cli_commands` handles everything else (help,
typos, bad numbers) with its own messages; both run :func:`run_kb_search`, so the
output is the same either way. Nothing here imports typer.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chat_tui.cli_argv import take_option

#: The options with a value, by flag. tests/unit/test_cli_fast_path.py keeps this and
#: ``KB_SEARCH_FLAGS`` in step with the typer command in ``chat_tui.cli_commands``.
KB_SEARCH_OPTIONS = {"--kb": "kb", "--top": "top", "-k": "top"}
KB_SEARCH_FLAGS = {"--json": "as_json"}


@dataclass(frozen=True)
class KbSearch:
    """One ``kb search``'s arguments."""

    query: str
    kb: str = ""
    top: int = 5
    as_json: bool = False


def parse_kb_search(argv: Sequence[str]) -> KbSearch | None:
    """``argv`` (after ``kb search``) when every argument is plain; None for typer.

    Plain: one query not starting with ``-``, options of ``KB_SEARCH_OPTIONS`` with a
    value (``--top`` a decimal number), flags of ``KB_SEARCH_FLAGS``, each at most once.
    """
    values: dict[str, Any] = {}
    query: str | None = None
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if not arg.startswith("-"):
            if query is not None:
                return None
            query = arg
            continue
        option = take_option(arg, rest, KB_SEARCH_FLAGS, KB_SEARCH_OPTIONS)
        if option is None:
            return None
        key, found = option
        if key in values:
            return None
        values[key] = found
    if query is None:
        return None
    top = str(values.get("top", "5"))
    if not top.isdecimal() or not top.isascii():
        return None
    return KbSearch(
        query=query,
        kb=str(values.get("kb", "")),
        top=int(top),
        as_json=bool(values.get("as_json", False)),
    )


def run_kb_search(search: KbSearch) -> None:
    """Search the knowledge base as the chat would and print the hits (or JSON)."""
    import asyncio

    from chat_tui import cli_support as cli
    from chat_tui.domain.text import clean_line, clean_text, terminal_safe_json
    from chat_tui.errors import ChatTuiError
    from chat_tui.services.knowledge import hit_records
    from chat_tui.services.knowledge import search as search_knowledge

    settings = cli.load()
    try:
        result = asyncio.run(
            search_knowledge(
                settings, search.kb or settings.retrieval.knowledge_base, search.query, search.top
            )
        )
    except ChatTuiError as error:
        cli.fail(clean_line(error))
    if result.notice:
        print(f"note: {clean_line(result.notice)}", file=sys.stderr, flush=True)
    if search.as_json:
        # Raw strings, exact after parsing: JSON escapes C0 controls (ESC is \u001b) and
        # terminal_safe_json escapes the C1 and bidi characters a terminal would act on.
        print(terminal_safe_json(hit_records(result.passages)), flush=True)
        return
    lines = [] if result.passages else ["no matching passages"]
    for n, passage in enumerate(result.passages, 1):
        label = clean_line(passage.citation().label())
        lines.append(f"[{n}] {label}  (score {passage.score:.3f})")
        snippet = clean_text(" ".join(passage.chunk.text.split()))
        lines.append(f"    {snippet[:300]}")
    print("\n".join(lines), flush=True)


__all__ = [
    "KB_SEARCH_FLAGS",
    "KB_SEARCH_OPTIONS",
    "KbSearch",
    "parse_kb_search",
    "run_kb_search",
]
