"""The context gauge: what the next request carries against the budget, and the totals."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_tui.domain.context_gauge import (
    ContextGauge,
    GaugeLevel,
    SessionUsage,
    format_tokens,
    session_usage,
)
from chat_tui.domain.models import Message, Usage
from chat_tui.domain.prompt import build_messages
from chat_tui.domain.tokens import estimate_messages_tokens, estimate_tokens
from chat_tui.services.bootstrap import open_services
from tests.conftest import make_settings
from tests.support.fake_openai import FakeOpenAI, Reply


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (1_000, "1.0k"),
        (3_140, "3.1k"),
        (127_600, "128k"),
        (2_500_000, "2.5M"),
    ],
)
def test_token_counts_fit_a_status_line(count: int, shown: str) -> None:
    assert format_tokens(count) == shown


def test_the_level_warns_as_the_context_fills_and_says_when_turns_are_dropped() -> None:
    assert ContextGauge(tokens=100, budget=1_000).level is GaugeLevel.OK
    assert ContextGauge(tokens=800, budget=1_000).level is GaugeLevel.FILLING
    trimmed = ContextGauge(tokens=990, budget=1_000, dropped=6)
    assert trimmed.level is GaugeLevel.TRIMMED
    assert trimmed.label() == "ctx full: 6 earlier not sent"
    assert trimmed.label(compact=True) == "ctx full -6"


def test_the_label_shows_totals_and_cost_only_when_known() -> None:
    bare = ContextGauge(tokens=3_140, budget=127_000)
    assert bare.label() == "ctx 3.1k/127k (2%)"
    assert bare.label(compact=True) == "ctx 2%"
    priced = ContextGauge(
        tokens=3_140,
        budget=127_000,
        usage=SessionUsage(prompt_tokens=10_000, completion_tokens=2_400, cost=0.0291),
    )
    assert priced.label() == "ctx 3.1k/127k (2%) · 12k tok · $0.029"


def test_a_cost_needs_both_prices() -> None:
    messages = [
        Message(session_id="s", role="assistant", content="a", usage=Usage(1_000_000, 500_000)),
        Message(session_id="s", role="user", content="q"),
    ]
    assert session_usage(messages).cost is None
    assert session_usage(messages, input_price=0.15).cost is None
    usage = session_usage(messages, input_price=0.15, output_price=0.60)
    assert usage.total_tokens == 1_500_000
    assert usage.cost == pytest.approx(0.15 + 0.30)


async def test_the_gauge_counts_what_the_next_request_sends(isolated_home: Path) -> None:
    """Turns through the real service against the fake server; the gauge then agrees with
    the request the next turn sends, and with the usage the server reported."""
    with FakeOpenAI() as server:
        server.default_reply = Reply(content="word " * 300, usage=(700, 300))
        settings = make_settings(
            server.url,
            home=isolated_home,
            config="input_price = 2.0\noutput_price = 8.0\n",
        )
        services = open_services(settings, context=None)

        async def ignore(event: object) -> None:
            pass

        try:
            session = services.repository.create_session("assistant")
            for n in range(3):
                await services.chat.send(session.id, f"question {n} " * 40, ignore)
            history = services.repository.messages(session.id)
            gauge = services.chat.context_gauge(session, history)
            system = services.chat.role("assistant").system_prompt
            expected = build_messages(
                system,
                [*history, Message(session_id=session.id, role="user", content="?")],
                budget=gauge.budget,
                count_tokens=estimate_tokens,
            )
            assert gauge.tokens == estimate_messages_tokens(expected[:-1])
            assert gauge.dropped == 0
            assert gauge.budget == 4096 - 1024  # the test profile's window less the answer
            assert gauge.usage.prompt_tokens == 3 * 700
            assert gauge.usage.completion_tokens == 3 * 300
            assert gauge.usage.cost == pytest.approx((2_100 * 2.0 + 900 * 8.0) / 1e6)

            # Enough more turns and the oldest no longer fit: the gauge says how many.
            for n in range(6):
                await services.chat.send(session.id, f"more {n} " * 80, ignore)
            history = services.repository.messages(session.id)
            full = services.chat.context_gauge(session, history)
            assert full.dropped > 0
            assert full.level is GaugeLevel.TRIMMED
            assert full.tokens <= full.budget
        finally:
            await services.chat.aclose()
            services.close()
