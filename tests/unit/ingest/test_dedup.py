"""Duplicate passages: the key collapses copies and only copies; the book keeps every source."""

from __future__ import annotations

import pytest

from chat_tui.domain.models import Citation
from chat_tui.ingest.dedup import DuplicateBook, dedup_key, normalise
from chat_tui.retrieval.types import Chunk


def _chunk(source: str, index: int, text: str) -> Chunk:
    return Chunk(id=f"{source}-{index}", source=source, text=text, index=index)


@pytest.mark.parametrize(
    "copy",
    [
        "this page report a bug show source",  # case
        "This Page — Report a Bug; Show Source!",  # punctuation
        "Ｔｈｉｓ Ｐａｇｅ Ｒｅｐｏｒｔ ａ Ｂｕｇ Ｓｈｏｗ Ｓｏｕｒｃｅ",  # NFKC full-width forms
        "This\u00a0Page\n\n  Report a Bug\tShow   Source ¶",  # whitespace, pilcrow
    ],
)
def test_near_duplicates_share_a_key(copy: str) -> None:
    assert dedup_key(copy) == dedup_key("This Page / Report a Bug / Show Source")


@pytest.mark.parametrize(
    "other",
    [
        "This Page / Report a Bug / Show Sources",
        "This Page / Report the Bug / Show Source",
        "Report a Bug / This Page / Show Source",
        "This Page / Report a Bug / Show Source 2",
    ],
)
def test_different_texts_keep_different_keys(other: str) -> None:
    assert dedup_key(other) != dedup_key("This Page / Report a Bug / Show Source")


def test_chinese_punctuation_goes_but_words_stay() -> None:
    assert normalise("安装：使用 pip。") == "安装 使用 pip"
    assert dedup_key("安装：使用 pip。") == dedup_key("安装, 使用 pip")
    assert dedup_key("安装 使用 pip") != dedup_key("卸载 使用 pip")


def test_punctuation_only_fragments_do_not_merge() -> None:
    assert dedup_key("---") != dedup_key("***")
    assert dedup_key("---") == dedup_key("---")


def test_keys_are_hex_safe_for_filters() -> None:
    key = dedup_key("x'] or key not in ['\\\n\x1b[31m")
    assert len(key) == 32 and set(key) <= set("0123456789abcdef")


def test_the_first_copy_is_stored_and_every_source_kept() -> None:
    book = DuplicateBook()
    first = book.split([_chunk("a.md", 0, "Licence: MIT."), _chunk("a.md", 1, "Only in a.")])
    second = book.split([_chunk("b.md", 0, "licence mit"), _chunk("b.md", 1, "Only in b.")])
    assert [c.text for c in first.stored] == ["Licence: MIT.", "Only in a."]
    assert first.copies == []
    assert [c.text for c in second.stored] == ["Only in b."]
    assert [(c.source, k) for c, k in second.copies] == [("b.md", dedup_key("Licence: MIT."))]
    assert book.sources(dedup_key("Licence: MIT.")) == ["a.md", "b.md"]
    assert book.repeated() == [(dedup_key("licence mit"), 2)]


def test_a_copy_within_one_file_is_a_copy() -> None:
    split = DuplicateBook().split([_chunk("a.md", 0, "Same."), _chunk("a.md", 1, "same")])
    assert len(split.stored) == 1 and [c.index for c, _ in split.copies] == [1]


def test_keys_already_stored_make_copies_and_a_refused_file_releases_its_claims() -> None:
    book = DuplicateBook(known=[dedup_key("Stored before.")])
    assert book.split([_chunk("c.md", 0, "stored before")]).stored == []
    book.split([_chunk("d.md", 0, "Claimed by d.")])
    book.forget("d.md")  # d.md was refused: its passage must be stored by the next file
    assert len(book.split([_chunk("e.md", 0, "claimed by d")]).stored) == 1


def test_also_in_label() -> None:
    """The one "(also in: ...)" rule is the citation's (ingest's copy of it went)."""

    def label(*also_in: str) -> str:
        return Citation(source="x.md", also_in=also_in).label()

    assert label() == "x.md"
    assert label("a.md", "a.md", "b.md") == "x.md (also in: a.md, b.md)"
    assert label("a", "b", "c", "d", "e") == "x.md (also in: a, b +3)"
