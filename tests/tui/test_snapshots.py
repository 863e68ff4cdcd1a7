"""Snapshot tests of the screens that matter: main (answer with code), help, role picker.

Regenerate after an intended visual change with
``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_tui.domain.models import Citation, Message, Usage
from chat_tui.services.bootstrap import open_services
from chat_tui.tui.widgets.prompt import PromptInput
from tests.conftest import make_settings

ANSWER = """Use `tomllib` from the standard library:

```python
import tomllib

with open("config.toml", "rb") as f:
    config = tomllib.load(f)
```

Model output such as [bold red]this[/] stays literal text.
"""


HOME_DOCS = str(Path.home() / "notes" / "physics")
SOURCED = {
    "role": "assistant",
    "model": "fake-model",
    "content": "Shorter (blue) wavelengths scatter far more than red ones: **Rayleigh "
    "scattering** goes as 1/λ⁴ [1]. At sunset the light crosses more air, so the blue "
    "is scattered away and reds remain [2].",
    "citations": (
        Citation(
            source=f"{HOME_DOCS}/optics/scattering.md",
            heading="Optics > Rayleigh scattering",
            line_start=12,
            line_end=30,
        ),
        Citation(source=f"{HOME_DOCS}/atmosphere-lecture-notes.pdf", page=7),
    ),
}
SOURCED_ANSWER = Message(session_id="-", **SOURCED)


@pytest.fixture
def snapshot_app(isolated_home: Path):  # type: ignore[no-untyped-def]
    from chat_tui.tui.app import make_app

    settings = make_settings("http://127.0.0.1:9/v1", home=isolated_home)
    services = open_services(settings, context=None)
    repo = services.repository
    for role, title in (
        ("teacher", "Why is the sky blue?"),
        ("assistant", "Weekend trip to Kyoto"),
    ):
        session = repo.create_session(role, title)
        repo.append_message(Message(session_id=session.id, role="user", content=title))
        if role == "teacher":
            repo.append_message(SOURCED_ANSWER.__class__(**{**SOURCED, "session_id": session.id}))
    session = repo.create_session("programmer", "Read a TOML file")
    repo.append_message(
        Message(session_id=session.id, role="user", content="How do I read a TOML file in Python?")
    )
    repo.append_message(
        Message(
            session_id=session.id,
            role="assistant",
            content=ANSWER,
            model="fake-model",
            usage=Usage(20, 48, 68),
        )
    )
    app = make_app(services, check_setup=False)
    yield app
    services.close()


async def history_shown(pilot) -> None:  # type: ignore[no-untyped-def]
    # A blinking cursor would make the picture depend on the moment it is taken.
    pilot.app.query_one(PromptInput).cursor_blink = False
    await pilot.app.chat_screen.history_shown()
    await pilot.pause()


def test_main_screen(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(snapshot_app, terminal_size=(120, 34), run_before=history_shown)


def test_help_screen(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        snapshot_app, press=["f1"], terminal_size=(120, 40), run_before=history_shown
    )


def test_role_picker(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        snapshot_app, press=["ctrl+r"], terminal_size=(120, 34), run_before=history_shown
    )


# ---------------------------------------------------------------- 80x24: a small terminal


def test_main_screen_80x24(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(snapshot_app, terminal_size=(80, 24), run_before=history_shown)


def test_help_screen_80x24(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        snapshot_app, press=["f1"], terminal_size=(80, 24), run_before=history_shown
    )


def test_sourced_answer_80x24(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    async def teacher(pilot) -> None:  # type: ignore[no-untyped-def]
        await history_shown(pilot)
        await pilot.press("alt+2")
        await pilot.app.chat_screen.history_shown()
        await pilot.pause()

    assert snap_compare(snapshot_app, terminal_size=(80, 24), run_before=teacher)
