"""Untrusted text loses escape sequences and control characters, even split across pieces."""

from __future__ import annotations

import pytest

from chat_tui.domain.text import StreamSanitizer, strip_terminal_controls


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
