"""A fast stream leaves the event loop turns to draw and to read keys (``LoopYielder``).

Deltas the HTTP client has already buffered come out of ``async for`` without a single
suspension: a server that sends thousands at once held the loop until the last one.
"""

from __future__ import annotations

import asyncio

from chat_tui.services.chat import ContentReceived
from chat_tui.tui.pacing import YIELD_EVERY_DELTAS
from chat_tui.tui.turn import TurnDisplay
from tests.tui.conftest import make_app


async def test_a_burst_of_deltas_gives_the_loop_turns(services) -> None:
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.chat_screen
        assert screen.session is not None
        view = await screen.chat_view.start_answer()
        display = TurnDisplay(screen, screen.session.id, view)
        turns = 0
        running = True

        async def other_work() -> None:
            nonlocal turns
            while running:
                await asyncio.sleep(0)
                turns += 1

        other = asyncio.create_task(other_work())
        await asyncio.sleep(0)  # let it start
        started = turns
        deltas = 20 * YIELD_EVERY_DELTAS
        for _ in range(deltas):
            await display(ContentReceived("word "))
        during = turns - started
        running = False
        await other
        # At least one turn for each batch of deltas (more when a batch takes ~10 ms).
        assert during >= deltas // YIELD_EVERY_DELTAS - 1
        assert view.backlog + len(view.streamed_text) == len("word ") * deltas
