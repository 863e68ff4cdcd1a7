"""``chat-tui ask``: its plain spellings read without typer's argument parsing.

Why a module of its own: scripts call ``ask`` one question at a time, and typer's
parsing (its adapters, pydantic's annotated types) costs ~0.1-0.25 s before the
question is even read. :mod:`chat_tui.launch` reads the plain spellings with
:func:`parse_ask` and calls the very ``ask`` function typer would call
(:func:`chat_tui.cli.ask`), through the same one-line error handling; everything
else (``--help``, typos, bad numbers, ``--``) goes to typer with its own messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chat_tui.cli_argv import take_option
from chat_tui.cli_support import one_line_errors

#: The options with a value, by flag; ``--image`` may repeat. tests/unit/test_cli_fast_path.py
#: keeps these and ``ASK_FLAGS`` in step with the typer command in ``chat_tui.cli``.
ASK_OPTIONS = {
    "--role": "role",
    "-r": "role",
    "--session": "session",
    "-s": "session",
    "--earlier": "earlier",
    "--image": "image",
}
ASK_FLAGS = {"--no-kb": "no_kb"}


@dataclass(frozen=True)
class AskArgs:
    """One ``ask``'s arguments, as typer would pass them."""

    question: tuple[str, ...]
    role: str = "assistant"
    session: str | None = None
    no_kb: bool = False
    earlier: int | None = None
    image: tuple[Path, ...] = ()


def parse_ask(argv: Sequence[str]) -> AskArgs | None:
    """``argv`` (after ``ask``) when every argument is plain; None for typer.

    Plain: question words (``-`` included, nothing else starting with ``-``), options of
    ``ASK_OPTIONS`` with a value (``--earlier`` a decimal number), ``--no-kb``; each at
    most once but ``--image``.
    """
    words: list[str] = []
    values: dict[str, str | bool] = {}
    images: list[Path] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "-" or not arg.startswith("-"):
            words.append(arg)
            continue
        option = take_option(arg, rest, ASK_FLAGS, ASK_OPTIONS)
        if option is None:
            return None
        key, found = option
        if key == "image":
            images.append(Path(str(found)))
            continue
        if key in values:
            return None
        values[key] = found
    earlier = values.get("earlier")
    if not words or (
        earlier is not None and not (str(earlier).isdecimal() and str(earlier).isascii())
    ):
        return None
    session = values.get("session")
    return AskArgs(
        question=tuple(words),
        role=str(values.get("role", "assistant")),
        session=str(session) if session is not None else None,
        no_kb=bool(values.get("no_kb", False)),
        earlier=int(str(earlier)) if earlier is not None else None,
        image=tuple(images),
    )


def run_ask(args: AskArgs) -> None:
    """Run typer's ``ask`` with ``args`` (its exit status as a ``SystemExit``)."""
    import typer

    from chat_tui.cli import ask

    try:
        one_line_errors(
            lambda: ask(
                list(args.question),
                role=args.role,
                session=args.session,
                no_kb=args.no_kb,
                earlier=args.earlier,
                image=list(args.image) or None,
            )
        )
    except typer.Exit as done:
        raise SystemExit(done.exit_code) from None


__all__ = ["ASK_FLAGS", "ASK_OPTIONS", "AskArgs", "parse_ask", "run_ask"]
