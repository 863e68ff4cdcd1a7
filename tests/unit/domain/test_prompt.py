"""Context building: token-budget trimming, reasoning never sent, context block placement."""

from __future__ import annotations

from chat_tui.domain.models import Message, MessageStatus
from chat_tui.domain.prompt import build_messages, context_budget, title_from


def count(text: str) -> int:
    return len(text.split())


def turns(n: int) -> list[Message]:
    out = []
    for i in range(n):
        out.append(Message(session_id="s", role="user", content=f"question {i} " + "word " * 20))
        out.append(
            Message(
                session_id="s",
                role="assistant",
                content=f"answer {i} " + "word " * 20,
                reasoning="secret thoughts",
            )
        )
    return out


def test_all_history_fits_a_large_budget() -> None:
    history = turns(3) + [Message(session_id="s", role="user", content="last")]
    sent = build_messages("sys", history, budget=10_000, count_tokens=count)
    assert [m["role"] for m in sent] == ["system"] + ["user", "assistant"] * 3 + ["user"]
    assert all("secret thoughts" not in m["content"] for m in sent)


def test_oldest_turns_are_dropped_first_by_token_budget() -> None:
    history = turns(10) + [Message(session_id="s", role="user", content="last")]
    sent = build_messages("sys", history, budget=130, count_tokens=count)
    contents = [m["content"] for m in sent]
    assert contents[-1] == "last"
    assert sum(count(c) + 4 for c in contents) <= 130
    assert any(c.startswith("answer 9") for c in contents)
    assert not any(c.startswith("question 0") for c in contents)
    assert sent[1]["role"] == "user"


def test_the_question_is_always_sent_even_over_budget() -> None:
    history = [Message(session_id="s", role="user", content="huge " * 500)]
    sent = build_messages("sys", history, budget=10, count_tokens=count)
    assert sent[-1]["content"].startswith("huge")


def test_unanswered_questions_are_left_out_but_partial_answers_are_sent() -> None:
    history = [
        Message(session_id="s", role="user", content="q1"),
        Message(
            session_id="s", role="assistant", content="", status=MessageStatus.FAILED, error="401"
        ),
        Message(session_id="s", role="user", content="q2"),
        Message(session_id="s", role="assistant", content="partial", status=MessageStatus.STOPPED),
        Message(session_id="s", role="user", content="q3"),
    ]
    sent = build_messages("sys", history, budget=1000, count_tokens=count)
    # q1 got no text back: sending it would put two user turns in a row.
    assert [m["content"] for m in sent[1:]] == ["q2", "partial", "q3"]


def test_context_block_goes_above_the_question() -> None:
    history = [Message(session_id="s", role="user", content="What is X?")]
    sent = build_messages(
        "sys", history, budget=1000, count_tokens=count, context_block="<context>X is Y</context>"
    )
    assert sent[-1]["content"] == "<context>X is Y</context>\n\nQuestion: What is X?"


def test_budget_defaults_to_window_less_answer() -> None:
    assert context_budget(8192, 1024) == 7168
    assert context_budget(8192, 1024, configured=2000) == 2000


def test_titles_come_from_the_first_line() -> None:
    assert title_from("\n  How do I   sort a list?\nmore") == "How do I sort a list?"
    assert title_from("x" * 100).endswith("…") and len(title_from("x" * 100)) == 48
    assert title_from("   ") == "New chat"
