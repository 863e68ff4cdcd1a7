"""The status line's context gauge, as the user sees it: it grows with the session."""

from __future__ import annotations

from chat_tui.tui.widgets.status import StatusLine
from tests.support.fake_openai import Reply
from tests.tui.conftest import make_app, send, until


def status_line(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.query_one(StatusLine).render())


async def test_the_status_line_shows_the_next_requests_context_and_the_totals(
    services, fake_openai
) -> None:
    fake_openai.script(Reply(content="word " * 400, usage=(900, 400)))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: "ctx " in status_line(app), "the gauge of the empty session")
        empty = status_line(app)
        assert "/3.1k" in empty and "tok" not in empty  # no totals before an answer
        await send(pilot, "tell me a lot")
        await until(pilot, lambda: "1.3k tok" in status_line(app), "the session's totals")
        grown = status_line(app)
        assert grown != empty
        # At 80 columns the gauge shrinks to its share and the rest still fits.
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: "ctx " in status_line(app), "the compact gauge")
        narrow = status_line(app)
        assert "%" in narrow and "/3.1k" not in narrow
        assert len(narrow) <= 80
        app.save_screenshot("/tmp/gauge-80.svg")
