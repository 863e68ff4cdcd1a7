"""Counted phrases: one passage is "1 passage", never "1 passages"."""

from __future__ import annotations

from chat_tui.domain.plurals import counted, passages_summary


def test_one_is_singular_and_two_plural() -> None:
    assert passages_summary(1, 1) == "1 passage from 1 file"
    assert passages_summary(2, 2) == "2 passages from 2 files"
    assert passages_summary(2, 1) == "2 passages from 1 file"


def test_nothing_found_says_so() -> None:
    assert passages_summary(0, 0) == "no matching passages"


def test_counted_nouns() -> None:
    assert counted(0, "file") == "0 files"
    assert counted(1, "match", "matches") == "1 match"
    assert counted(3, "match", "matches") == "3 matches"
