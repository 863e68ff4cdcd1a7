"""Reading the user's TOML files (config.toml, role files) with one-line errors.

Both ``chat_tui.config`` and the role loader read hand-written TOML, and a mistake in
either must be one line naming the file (and the key): invalid UTF-8, a syntax error,
a misspelled key. The rules live here once, below both.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from chat_tui.domain.text import clean_line
from chat_tui.errors import ConfigError


def read_toml(path: Path, *, missing_ok: bool = True) -> dict[str, Any]:
    """Parse a TOML file; every problem is one ``ConfigError`` line naming the file.

    Args:
        path: the file.
        missing_ok: a missing file reads as an empty table (else it is an error).

    Raises:
        ConfigError: unreadable, not UTF-8, or not valid TOML.
    """
    where = clean_line(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise ConfigError(f"{where}: no such file") from None
    except OSError as error:
        raise ConfigError(f"{where}: cannot read ({error.strerror or error})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            f"{where}: not valid UTF-8 (byte 0x{raw[error.start]:02x} on line {line}); "
            "save the file as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        reason = clean_line(" ".join(str(error).split()))
        raise ConfigError(f"{where}: not valid TOML ({reason})") from None


def reject_unknown(
    data: Mapping[str, Any],
    known: Collection[str],
    *,
    path: Path,
    prefix: str = "",
) -> None:
    """Raise ``ConfigError`` for the first key of ``data`` not in ``known``, with a guess.

    Args:
        data: a parsed TOML table.
        known: the keys (and sub-table names) it may have.
        path: the file, for the message.
        prefix: the dotted name of the table ("providers.openai."), for the message.
    """
    for key in data:
        if key in known:
            continue
        is_table = isinstance(data[key], Mapping)
        guess = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
        name = clean_line(f"{prefix}{key}")
        what = f"unknown table [{name}]" if is_table else f"unknown key {name}"
        hint = ""
        if guess:
            suggestion = f"{prefix}{guess[0]}"
            hint = f" (did you mean {f'[{suggestion}]' if is_table else suggestion}?)"
        raise ConfigError(f"{clean_line(path)}: {what}{hint}")
