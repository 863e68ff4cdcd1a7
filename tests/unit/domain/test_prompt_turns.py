"""The roles of a request alternate whatever the stored history holds (issue 8.5)."""

from __future__ import annotations

import itertools
import random

from chat_tui.domain.models import Message, MessageStatus
from chat_tui.domain.prompt import build_messages


def count(text: str) -> int:
    return max(1, len(text) // 4)


def user(text: str) -> Message:
    return Message(session_id="s", role="user", content=text)


def answer(text: str, status: MessageStatus = MessageStatus.COMPLETE) -> Message:
    return Message(session_id="s", role="assistant", content=text, status=status)


def roles(sent: list[dict[str, str]]) -> list[str]:
    return [m["role"] for m in sent]


def test_stopped_before_any_text_leaves_the_question_out() -> None:
    history = [
        user("q1"),
        answer("a1"),
        user("stopped early"),
        answer("", MessageStatus.STOPPED),
        user("stopped before save, no answer at all"),
        user("q4"),
    ]
    sent = build_messages("sys", history, budget=1000, count_tokens=count)
    assert [m["content"] for m in sent] == ["sys", "q1", "a1", "q4"]


def test_regenerate_attempts_send_the_last_complete_answer() -> None:
    history = [
        user("q1"),
        answer("first good"),
        answer("retry cut", MessageStatus.FAILED),
        answer("", MessageStatus.STOPPED),
        user("q2"),
    ]
    sent = build_messages("sys", history, budget=1000, count_tokens=count)
    assert [m["content"] for m in sent[1:]] == ["q1", "first good", "q2"]


def test_a_partial_answer_is_sent_when_nothing_completed() -> None:
    history = [user("q1"), answer("half", MessageStatus.FAILED), user("q2")]
    sent = build_messages("sys", history, budget=1000, count_tokens=count)
    assert [m["content"] for m in sent[1:]] == ["q1", "half", "q2"]


def test_random_histories_always_alternate_and_end_with_the_question() -> None:
    rng = random.Random(7)
    kinds = [
        lambda i: user(f"q{i}"),
        lambda i: user(" "),
        lambda i: answer(f"a{i}"),
        lambda i: answer("", MessageStatus.STOPPED),
        lambda i: answer(f"p{i}", MessageStatus.STOPPED),
        lambda i: answer("", MessageStatus.FAILED),
    ]
    for _ in range(500):
        history = [rng.choice(kinds)(i) for i in range(rng.randint(0, 12))]
        history.append(user("final question"))
        sent = build_messages("sys", history, budget=rng.randint(20, 400), count_tokens=count)
        body = roles(sent)[1:]
        assert body[0] == "user" and sent[-1]["content"] == "final question"
        assert all(a != b for a, b in itertools.pairwise(body)), body
        assert all(m["content"].strip() for m in sent)
