"""Completing a path in the attach dialog, and telling a pasted image path from text."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_tui.services.attachments import complete_path, pasted_image_path
from tests.support.images import write_png


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    folder = tmp_path / "Pictures"
    write_png(folder / "holiday one.png")
    write_png(folder / "holiday two.png")
    write_png(folder / ".hidden.png")
    (folder / "trips").mkdir()
    (folder / "evil\x1b[2J.png").write_bytes(b"x")
    return folder


def test_tab_extends_to_the_shared_prefix_and_lists_the_matches(pictures: Path) -> None:
    base = str(pictures.parent)
    assert complete_path(base + "/Pic") == (base + "/Pictures/", ["Pictures/"])
    assert complete_path(base + "/Pictures/ho") == (
        base + "/Pictures/holiday ",
        ["holiday one.png", "holiday two.png"],
    )
    assert complete_path(base + "/Pictures/t") == (base + "/Pictures/trips/", ["trips/"])
    assert complete_path(base + "/Pictures/.h")[1] == [".hidden.png"]
    everything = complete_path(base + "/Pictures/")[1]
    assert ".hidden.png" not in everything and not any("\x1b" in n for n in everything)
    assert complete_path(base + "/nowhere/x") == (base + "/nowhere/x", [])


def test_home_is_expanded(pictures: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(pictures.parent))
    assert complete_path("~/Pic") == ("~/Pictures/", ["Pictures/"])


def test_a_paste_is_an_image_only_when_it_names_an_existing_image_file(pictures: Path) -> None:
    photo = pictures / "holiday one.png"
    assert pasted_image_path(str(photo).replace(" ", "\\ ")) == photo
    assert pasted_image_path(f"'{photo}'") == photo
    assert pasted_image_path(str(pictures / "missing.png")) is None
    assert pasted_image_path(str(pictures / "trips")) is None
    notes = pictures / "notes.txt"
    notes.write_text("x", encoding="utf-8")
    assert pasted_image_path(str(notes)) is None  # not an image name: pasted as text
