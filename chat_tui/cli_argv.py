"""Reading one option of a command's plain spellings, without typer.

Why: ``kb search`` and ``ask`` are read by :mod:`chat_tui.launch` before typer (and the
pydantic it imports) would load; both read their options the same way, so that way is
written once here. Anything it does not recognise is left to typer and its messages.
"""

from __future__ import annotations

from collections.abc import Mapping


def take_option(
    arg: str, rest: list[str], flags: Mapping[str, str], options: Mapping[str, str]
) -> tuple[str, str | bool] | None:
    """The ``(key, value)`` that ``arg`` gives, taking its value from ``rest`` if needed.

    ``--name=value`` and ``--name value`` give the option's value, a flag gives True;
    None when ``arg`` is neither (or a value is missing), so the caller leaves it to typer.
    """
    # --long=value is one argument; for -m, like click, "=x" would be the value itself.
    name, has_value, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
    if name in flags and not has_value:
        return flags[name], True
    if name in options and (has_value or rest):
        return options[name], value if has_value else rest.pop(0)
    return None
