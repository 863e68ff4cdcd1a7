"""Untrusted text loses escape sequences and control characters, even split across pieces."""

from __future__ import annotations

import re

import pytest

from chat_tui.domain.text import StreamSanitizer, clean_line, clean_text, strip_terminal_controls


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain [bold]markup[/] stays", "plain [bold]markup[/] stays"),
        ("a\x1b[31mred\x1b[0mb", "aredb"),
        ("t\x1b]0;evil title\x07x", "tx"),
        ("t\x1b]52;c;Zm9v\x1b\\x", "tx"),
        ("bell\x07 nul\x00 del\x7f", "bell nul del"),
        ("keep\ttabs\nand lines\r\n", "keep\ttabs\nand lines\n"),
        ("8bit \x9b31m csi", "8bit  csi"),
    ],
)
def test_strip(raw: str, clean: str) -> None:
    assert strip_terminal_controls(raw) == clean


def test_sequences_split_across_pieces_are_removed() -> None:
    pieces = ["hi \x1b", "]0;pw", "ned\x07 the", "re \x1b[", "31mred\x1b", "[0m!"]
    sanitizer = StreamSanitizer()
    out = "".join(sanitizer.feed(p) for p in pieces) + sanitizer.flush()
    assert out == "hi  there red!"


def test_text_without_escapes_passes_through_unchanged_piece_by_piece() -> None:
    sanitizer = StreamSanitizer()
    assert [sanitizer.feed(p) for p in ["a", "b", "c"]] == ["a", "b", "c"]


HOSTILE_NAMES = [
    "t\x1b]0;PWN\x07x",
    "a\x1b[2Jb",
    "bell\x07",
    "back\x08space",
    "bare\rcr",
    "new\nline",
    "c1 \x9b31m",
    "bidi \u202egnp.exe",
    "isolate \u2066x\u2069",
    "sep\u2028x",
]


@pytest.mark.parametrize("raw", HOSTILE_NAMES)
def test_clean_line_leaves_no_control_character_and_keeps_the_name_readable(raw: str) -> None:
    shown = clean_line(raw)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in shown)
    assert not any(ch in shown for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert "\u2028" not in shown
    for word in re.findall(r"[A-Za-z]{2,}", raw):
        assert word in shown


def test_clean_line_shows_escapes_as_backslash_codes() -> None:
    assert clean_line("a\x1b]0;T\x07b") == "a\\x1b]0;T\\x07b"
    assert clean_line("x\u202ey") == "x\\u202ey"
    assert clean_line("two\nlines", keep_newlines=True) == "two\nlines"
    assert clean_line(123) == "123"


def test_clean_text_removes_bidi_overrides() -> None:
    assert clean_text("left \u202eright\u202c done") == "left right done"
