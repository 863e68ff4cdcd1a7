r"""The one gate between text from outside the program and the terminal.

Everything chat-tui did not write itself is data: model output and reasoning,
document text and headings, file names and paths, server and library error
messages, session titles, role files, log records. Any of it may carry terminal
escape sequences (CSI ``ESC [``, OSC ``ESC ]`` such as a window-title change, DCS,
APC, ...), other C0/C1 control characters (BEL, backspace, a bare CR that rewrites
a line) or bidi overrides that make text read differently from what it is.

Two functions, one rule set:

* :func:`clean_text` for running text shown as text (answers, passages, snippets):
  sequences and controls are *removed*, tabs and newlines kept.
* :func:`clean_line` for names and one-line messages (file names, paths, titles,
  headings, error texts, log records): controls are *made visible* as ``\xNN`` /
  ``\uNNNN``, so a hostile name is still recognisable and never acts.

Rich markup is never interpreted: the TUI shows such text as Markdown or plain
``Content``, and the CLI prints it with markup off.
"""

from __future__ import annotations

import json
import re
from typing import Any

# ESC-introduced sequences: CSI, OSC/DCS/APC/PM/SOS (terminated by BEL or ST), and two-byte ESC X.
_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                 # CSI ... final byte
    | \x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)  # OSC / DCS / SOS / PM / APC ... BEL or ST
    | \x1b[@-OQ-WYZ\\]                      # other two-byte sequences (not CSI/OSC/DCS openers)
    | \x9b[0-?]*[ -/]*[@-~]                 # 8-bit CSI
    | \x9d[^\x07\x9c]*(?:\x07|\x9c)          # 8-bit OSC
    """,
    re.VERBOSE,
)
# Bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069): "Trojan source".
_BIDI = "\u202a-\u202e\u2066-\u2069"
# Remaining control characters except tab and newline (lone ESC included), and bidi controls.
_CONTROLS = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
# Everything clean_line makes visible: every C0/C1 control (tab and newline too), DEL, bidi,
# and the line/paragraph separators some terminals treat as line breaks.
_LINE_CONTROLS = re.compile(rf"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean_text(text: str) -> str:
    """Running text made safe to show: escape sequences, control characters and bidi
    overrides removed; tabs and newlines kept (CRLF becomes a newline)."""
    if not text:
        return text
    text = text.replace("\r\n", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


#: The older name of :func:`clean_text`.
strip_terminal_controls = clean_text


def clean_line(text: object, *, keep_newlines: bool = False) -> str:
    r"""A name or one-line message made safe to show: every control character (ESC,
    BEL, CR, newline, tab, C1, DEL, bidi overrides) is shown as ``\xNN`` / ``\uNNNN``.

    Args:
        text: the string (anything else is ``str()``-ed first, e.g. a ``Path``).
        keep_newlines: keep ``\n`` as a line break (log records with a traceback).
    """
    value = text if isinstance(text, str) else str(text)
    if not value:
        return value
    if keep_newlines:
        return "\n".join(_LINE_CONTROLS.sub(_visible, part) for part in value.split("\n"))
    return _LINE_CONTROLS.sub(_visible, value)


# JSON escapes C0 controls itself; these pass through ``ensure_ascii=False`` raw and a
# terminal would act on them (C1 CSI 0x9b, bidi overrides, line separators). Escaping
# them keeps the JSON exact: a parser reads back the same strings.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def terminal_safe_json(value: Any) -> str:
    """``value`` as indented JSON whose text holds no character a terminal acts on."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class StreamSanitizer:
    """Strips escape sequences from a stream whose sequences may be split across pieces.

    Holds back a trailing, possibly incomplete sequence until the next piece (at most
    ``hold_limit`` characters, after which it is dropped as garbage).
    """

    def __init__(self, hold_limit: int = 512) -> None:
        self._pending = ""
        self._hold_limit = hold_limit

    def feed(self, piece: str) -> str:
        text = self._pending + piece
        self._pending = ""
        cut = max(text.rfind("\x1b"), text.rfind("\x9b"), text.rfind("\x9d"))
        if cut != -1:
            tail = text[cut:]
            if not _ESCAPES.match(tail) and len(tail) < self._hold_limit:
                # Could be the start of a sequence that the next piece completes.
                self._pending = tail
                text = text[:cut]
        if text.endswith("\r"):
            self._pending = "\r" + self._pending
            text = text[:-1]
        return clean_text(text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return clean_text(text)
