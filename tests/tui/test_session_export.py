"""The palette's "Export session (Markdown)": the open session lands in a new file.

Driven through the real command palette of the real App, against the local fake
model server; the file is read back from disk.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandPalette

from tests.support.fake_openai import Reply
from tests.tui.conftest import make_app, notifications, send, until


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


async def export_from_palette(pilot, app) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    await until(
        pilot,
        lambda: isinstance(app.screen, CommandPalette) and app.screen.has_class("-ready"),
        "command palette ready",
    )
    await pilot.press(*"export session")
    await pilot.pause()
    await pilot.press("enter")


async def test_export_writes_the_open_session_to_downloads(
    services, fake_openai, home: Path
) -> None:
    downloads = home / "Downloads"
    downloads.mkdir()
    fake_openai.script(Reply(content="Use:\n\n```sh\nls -la\n```"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "How do I list files?")
        await export_from_palette(pilot, app)
        await until(pilot, lambda: any("Exported to" in n for n in notifications(app)), "export")
        await export_from_palette(pilot, app)  # again: a second file, the first kept
        await until(
            pilot,
            lambda: sum("Exported to" in n for n in notifications(app)) == 2,
            "second export",
        )
    files = sorted(downloads.iterdir())
    assert len(files) == 2 and all(f.suffix == ".md" for f in files)
    assert files[0].read_text(encoding="utf-8") == files[1].read_text(encoding="utf-8")
    text = files[0].read_text(encoding="utf-8")
    assert "## User" in text and "How do I list files?" in text and "```sh\nls -la\n```" in text
    shown = [n for n in notifications(app) if "Exported to" in n]
    assert {str(f) for f in files} == {n.removeprefix("Exported to ") for n in shown}


async def test_without_downloads_the_current_folder_is_used_and_a_draft_is_refused(
    services, fake_openai, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "started-here"
    here.mkdir()
    monkeypatch.chdir(here)
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await export_from_palette(pilot, app)  # a new, empty session: nothing to write
        await until(pilot, lambda: any("Nothing to export" in n for n in notifications(app)), "no")
        await send(pilot, "hello")
        await export_from_palette(pilot, app)
        await until(pilot, lambda: any("Exported to" in n for n in notifications(app)), "export")
    assert [f.suffix for f in here.iterdir()] == [".md"]
