"""Retrying a request refused as too long: fewer earlier turns each time, down to the question."""

from __future__ import annotations

import pytest

from chat_tui.domain.models import Message, MessageStatus
from chat_tui.domain.prompt import (
    CONTEXT_LENGTH,
    build_messages,
    fewer_earlier,
    refused_as_too_long,
)
from chat_tui.errors import ContextTooLongError


def count(text: str) -> int:
    return len(text.split())


def history(exchanges: int) -> list[Message]:
    out: list[Message] = []
    for i in range(exchanges):
        out.append(Message(session_id="s", role="user", content=f"question {i}"))
        out.append(Message(session_id="s", role="assistant", content=f"answer {i}"))
    out.append(Message(session_id="s", role="user", content="last"))
    return out


@pytest.mark.parametrize(
    ("sent", "kept"),
    [(16, 8), (12, 6), (10, 4), (6, 2), (4, 2), (2, 0), (1, 0), (0, 0)],
)
def test_a_retry_drops_the_oldest_half_of_the_exchanges(sent: int, kept: int) -> None:
    assert fewer_earlier(sent) == kept


def test_repeated_retries_end_with_only_the_question() -> None:
    sent, steps = 40, []
    while sent:
        sent = fewer_earlier(sent)
        steps.append(sent)
    assert steps == [20, 10, 4, 2, 0]
    assert all(n % 2 == 0 for n in steps)  # whole exchanges: roles keep alternating


def test_max_earlier_keeps_the_newest_turns_and_the_question() -> None:
    sent = build_messages(
        "sys", history(5), budget=10_000, count_tokens=count, max_earlier=fewer_earlier(10)
    )
    expected = ["sys", "question 3", "answer 3", "question 4", "answer 4", "last"]
    assert [m["content"] for m in sent] == expected
    alone = build_messages("sys", history(5), budget=10_000, count_tokens=count, max_earlier=0)
    assert [m["content"] for m in alone] == ["sys", "last"]


def test_the_token_budget_still_applies_under_max_earlier() -> None:
    # question i / answer i cost 2 + 4 tokens each; "sys" and "last" 1 + 4 each.
    sent = build_messages("sys", history(5), budget=10 + 6 * 2, count_tokens=count, max_earlier=8)
    assert [m["content"] for m in sent] == ["sys", "question 4", "answer 4", "last"]


def test_a_context_length_failure_is_recognised_from_the_stored_answer() -> None:
    assert ContextTooLongError("too long").kind == CONTEXT_LENGTH
    refused = Message(
        session_id="s",
        role="assistant",
        content="",
        status=MessageStatus.FAILED,
        error="too long",
        error_kind=CONTEXT_LENGTH,
    )
    assert refused_as_too_long(Message.from_dict(refused.to_dict()))
    other = Message.from_dict({**refused.to_dict(), "error_kind": "rate_limit"})
    assert not refused_as_too_long(other)
    # Answers stored before the field existed read back without a kind.
    legacy = refused.to_dict()
    del legacy["error_kind"]
    assert Message.from_dict(legacy).error_kind is None
