"""Fixtures for driving the real App with Pilot against the local fake model server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from chat_tui.services.bootstrap import AppServices, open_services
from chat_tui.tui.app import ChatApp, make_app
from tests.conftest import make_settings


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


__all__ = ["make_app", "reopen", "send", "until", "Awaitable"]
