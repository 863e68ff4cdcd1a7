"""At start-up the App builds the chat client in the background, before any question.

The first answer after launch used to wait ~1 s for ``import openai`` in its own turn,
because the warm-up only began once the open session's history was painted.
"""

from __future__ import annotations

import threading
from pathlib import Path

from chat_tui.config import Settings
from chat_tui.llm.client import ChatClient
from chat_tui.services.bootstrap import open_services
from tests.conftest import make_settings
from tests.tui.conftest import make_app, until


async def test_the_client_is_built_after_the_first_frame_without_a_question(
    fake_openai, isolated_home: Path
) -> None:  # type: ignore[no-untyped-def]
    built: list[ChatClient] = []
    threads: list[str] = []

    def recording(settings: Settings) -> ChatClient:
        threads.append(threading.current_thread().name)
        client = ChatClient(settings.provider, secrets=settings.secrets())
        built.append(client)
        return client

    services = open_services(
        make_settings(fake_openai.url, home=isolated_home), context=None, client_factory=recording
    )
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: bool(built), "the chat client built by the warm-up")
            assert threading.main_thread().name not in threads  # never on the event loop
            assert await services.chat.client() is built[0]  # the first turn reuses it
            assert fake_openai.requests == []  # nothing was asked
    finally:
        await services.chat.aclose()
        services.close()
