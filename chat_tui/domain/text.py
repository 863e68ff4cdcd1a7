"""Making untrusted text (model output, document text) safe to show in a terminal.

Model output and document text are data. Terminal escape sequences (CSI ``ESC [``,
OSC ``ESC ]`` such as a window-title change, DCS, APC, ...) and other C0/C1 control
characters are removed before anything reaches a widget; Rich markup is never
interpreted because the TUI renders such text as Markdown or as plain ``Content``.
"""

from __future__ import annotations

import re

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
# Remaining control characters except tab and newline (lone ESC included).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_terminal_controls(text: str) -> str:
    """Remove escape sequences and control characters, keeping tabs and newlines."""
    if not text:
        return text
    text = text.replace("\r\n", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


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
        return strip_terminal_controls(text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return strip_terminal_controls(text)
