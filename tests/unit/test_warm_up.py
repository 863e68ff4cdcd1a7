"""The start-up warm-up: the first answer finds its client and renderer ready.

The first answer after launch used to wait ~1 s for ``import openai`` and build its
client itself, then import the Markdown parser and compile a lexer on the event loop.
The warm-up does this in a thread; a turn that starts meanwhile must wait for that one
build, and a provider or model switch made meanwhile must win.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from chat_tui.config import Settings
from chat_tui.llm.client import ChatClient
from chat_tui.services import bootstrap
from chat_tui.services.bootstrap import AppServices, open_services
from tests.conftest import make_settings


class GatedFactory:
    """Builds real clients, but each build waits until the test releases it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.built: list[ChatClient] = []

    def __call__(self, settings: Settings) -> ChatClient:
        self.started.set()
        assert self.release.wait(10), "the test never released the build"
        client = ChatClient(settings.provider, secrets=settings.secrets())
        self.built.append(client)
        return client


@pytest.fixture
def gated() -> GatedFactory:
    return GatedFactory()


@pytest.fixture
def services(fake_openai, isolated_home: Path, gated: GatedFactory) -> Iterator[AppServices]:  # type: ignore[no-untyped-def]
    opened = open_services(
        make_settings(fake_openai.url, home=isolated_home), context=None, client_factory=gated
    )
    yield opened
    for client in gated.built:
        asyncio.run(client.aclose())
    opened.close()


def _warm_in_thread(services: AppServices) -> threading.Thread:
    thread = threading.Thread(target=bootstrap.warm_up_chat, args=(services,))
    thread.start()
    return thread


async def test_a_turn_asking_during_the_warm_up_gets_the_warmed_client(
    services: AppServices, gated: GatedFactory
) -> None:
    warming = _warm_in_thread(services)
    assert await asyncio.to_thread(gated.started.wait, 10)
    asking = asyncio.create_task(services.chat.client())
    await asyncio.sleep(0)  # let the turn ask while the warm-up is still building
    gated.release.set()
    client = await asking
    await asyncio.to_thread(warming.join, 10)
    assert gated.built == [client]  # built once, by the warm-up, and shared
    assert await services.chat.client() is client


async def test_a_model_switch_during_the_warm_up_wins(
    services: AppServices, gated: GatedFactory
) -> None:
    warming = _warm_in_thread(services)
    assert await asyncio.to_thread(gated.started.wait, 10)
    services.use_model("fake-model-2")
    gated.release.set()
    await asyncio.to_thread(warming.join, 10)
    client = await services.chat.client()
    assert client.provider.model == "fake-model-2"
    assert len(gated.built) == 2 and gated.built[0].provider.model == "fake-model"


def test_a_failed_warm_up_is_left_for_the_turn_to_report(fake_openai, isolated_home: Path) -> None:  # type: ignore[no-untyped-def]
    def broken(settings: Settings) -> ChatClient:
        raise RuntimeError("no client today")

    opened = open_services(
        make_settings(fake_openai.url, home=isolated_home), context=None, client_factory=broken
    )
    try:
        bootstrap.warm_up_chat(opened)  # does not raise
        with pytest.raises(RuntimeError, match="no client today"):
            asyncio.run(opened.chat.client())
    finally:
        opened.close()


def test_warming_the_renderer_loads_the_parser_and_the_common_lexers() -> None:
    code = (
        "import sys, json\n"
        "from chat_tui.services import bootstrap\n"
        "before = {m for m in sys.modules if m.startswith(('markdown_it', 'pygments'))}\n"
        "bootstrap.warm_up_rendering()\n"
        "print(json.dumps([sorted(before), sorted(sys.modules)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    before, after = json.loads(out)
    assert before == []  # importing the services warms nothing
    for module in (
        "markdown_it",
        "pygments.lexers.python",
        "pygments.lexers.shell",
        "pygments.lexers.data",
        "pygments.lexers.javascript",
    ):
        assert module in after, f"{module} was not warmed"
