"""Fixtures for driving the real App with Pilot against the local fake model server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from textual.notifications import Notification, Notify
from textual.widgets import Static

from chat_tui.services.bootstrap import AppServices, open_services
from chat_tui.tui.app import ChatApp, css_path
from chat_tui.tui.widgets.branch_switch import BranchSwitch
from chat_tui.tui.widgets.chat_view import AnswerView
from tests.conftest import make_settings


class RecordingApp(ChatApp):
    """The real App, also keeping every notification it showed.

    Recorded from Textual's public ``Notify`` message, after ``ChatApp.notify`` has
    sanitized the text, so tests see what the user saw (toasts time out; this stays).
    """

    CSS_PATH = css_path()  # Textual resolves a relative path next to the subclass

    def __init__(self, services: AppServices, *, check_setup: bool = True) -> None:
        super().__init__(services, check_setup=check_setup)
        self.notices: list[Notification] = []

    def on_notify(self, event: Notify) -> None:
        self.notices.append(event.notification)


def make_app(services: AppServices, *, check_setup: bool = True) -> RecordingApp:
    """The App ``chat_tui.tui.app.make_app`` builds, recording its notifications."""
    return RecordingApp(services, check_setup=check_setup)


@pytest.fixture
async def services(fake_openai, isolated_home: Path) -> AsyncIterator[AppServices]:  # type: ignore[no-untyped-def]
    opened = open_services(make_settings(fake_openai.url, home=isolated_home), context=None)
    yield opened
    # Close the model client on the test's own loop: left to the garbage collector, its
    # transport tried to schedule on a closed loop ("Event loop is closed").
    await opened.chat.aclose()
    opened.close()


def reopen(fake_openai, home: Path, **kwargs) -> AppServices:  # type: ignore[no-untyped-def]
    """Open the same history again, as a restarted app would."""
    return open_services(make_settings(fake_openai.url, home=home, **kwargs), context=None)


def answers(app: ChatApp) -> list[AnswerView]:
    """The answer views in the chat pane, oldest first."""
    return list(app.query(AnswerView))


def branch_lines(app: ChatApp) -> list[str]:
    """The "‹ 2/2 ›" lines in the chat pane, as shown."""
    return [str(line.render()) for line in app.query(BranchSwitch)]


def status_text(view: AnswerView) -> str:
    """An answer's status line (model, tokens, or the error) as shown."""
    return str(view.query_one(".answer-status", Static).render())


def notifications(app: RecordingApp, severity: str | None = None) -> list[str]:
    """The texts of the notifications ``app`` showed, optionally of one severity."""
    return [n.message for n in app.notices if severity is None or n.severity == severity]


async def until(pilot, predicate: Callable[[], bool], what: str, rounds: int = 400) -> None:  # type: ignore[no-untyped-def]
    """Let the app process messages until ``predicate`` holds (bounded, no sleeps)."""
    for _ in range(rounds):
        if predicate():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for: {what}")


async def send(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type ``text`` in the prompt and press Enter, then wait for the answer to be stored."""
    app: ChatApp = pilot.app
    prompt = app.query_one("#prompt")
    prompt.focus()
    prompt.text = text
    await pilot.press("enter")
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


__all__ = [
    "Awaitable",
    "RecordingApp",
    "answers",
    "branch_lines",
    "make_app",
    "notifications",
    "reopen",
    "send",
    "status_text",
    "until",
]
