"""End to end: edit an earlier question, resend it as a branch, switch back (issue 11.3).

The installed binary runs in tmux at 160x45 and 80x24; every key goes in as the bytes
an xterm-compatible terminal sends (ctrl+o is 0x0f, left/right are ``ESC [ D`` /
``ESC [ C``), so what is tested is what a user's terminal delivers.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.conftest import SIZES, needs_binary, needs_tmux
from tests.e2e.tmux import Tmux
from tests.support.fake_openai import FakeOpenAI, Reply

pytestmark = [pytest.mark.e2e, needs_tmux, needs_binary]

ENTER = "\r"
ESC = "\x1b"
UP, LEFT, RIGHT = "\x1b[A", "\x1b[D", "\x1b[C"
BACKSPACE = "\x7f"
CTRL_O = "\x0f"


def prompt_text(screen: str) -> str:
    """The text inside the prompt's box (the last ╭…╰ box on the screen)."""
    lines = screen.rstrip("\n").splitlines()
    bottom = max(i for i, line in enumerate(lines) if "╰" in line)
    top = max(i for i, line in enumerate(lines[:bottom]) if "╭" in line)
    inside = [line.split("│")[1].strip() if "│" in line else "" for line in lines[top + 1 : bottom]]
    return "\n".join(inside).strip()


def ask(tmux: Tmux, fake: FakeOpenAI, question: str, answer: str) -> None:
    before = len(fake.requests)
    tmux.type(question)
    tmux.send_bytes(ENTER)
    fake.wait_for_requests(before + 1, timeout=40)
    tmux.wait(lambda s: s.rfind("tokens") > s.rfind(answer) >= 0, "the answer to finish")


@pytest.mark.parametrize("size", SIZES)
def test_edit_resend_and_switch_branches_with_terminal_bytes(
    chat_tui_in_tmux: Callable[..., Tmux], fake_server: FakeOpenAI, size: tuple[int, int]
) -> None:
    fake_server.script(
        Reply(content="answer one"),
        Reply(content="answer two"),
        Reply(content="answer to the edit"),
    )
    tmux = chat_tui_in_tmux(size)
    ask(tmux, fake_server, "first question", "answer one")
    ask(tmux, fake_server, "second question", "answer two")
    # ctrl+o selects the last answer, up the question above it, e puts it in the prompt.
    tmux.send_bytes(CTRL_O)
    tmux.send_bytes(UP)
    tmux.send_bytes("e")
    tmux.wait_for("editing an earlier")
    # Esc cancels; e again, and the question is edited and sent.
    tmux.send_bytes(ESC)
    tmux.wait_gone("editing an earlier")
    tmux.send_bytes(CTRL_O)
    tmux.send_bytes(UP)
    tmux.send_bytes("e")
    tmux.wait_for("editing an earlier")
    for left in range(len("question") - 1, -1, -1):  # one key press at a time
        tmux.send_bytes(BACKSPACE)
        kept = "second " + "question"[:left]
        tmux.wait(lambda s, kept=kept: prompt_text(s) == kept.strip(), f"{kept!r} left")
    tmux.type("edited")
    tmux.wait(lambda s: prompt_text(s) == "second edited", "the edited text")
    tmux.send_bytes(ENTER)
    fake_server.wait_for_requests(3, timeout=40)
    screen = tmux.wait(
        lambda s: "answer to the edit" in s and "‹ 2/2 ›" in s, "the new branch, 2/2"
    )
    assert "second edited" in screen and "answer two" not in screen, screen
    sent = [m["content"] for m in fake_server.requests[-1]["messages"][1:]]
    assert sent == ["first question", "answer one", "second edited"]
    # left on the edited question shows the old branch; right (and l) the new one.
    tmux.send_bytes(CTRL_O)
    tmux.send_bytes(UP)
    tmux.send_bytes(LEFT)
    screen = tmux.wait(lambda s: "‹ 1/2 ›" in s and "answer two" in s, "the old branch")
    assert "second question" in screen and "answer to the edit" not in screen
    tmux.send_bytes(RIGHT)
    tmux.wait(lambda s: "‹ 2/2 ›" in s and "answer to the edit" in s, "the new branch again")
    tmux.send_bytes("h")
    tmux.wait(lambda s: "‹ 1/2 ›" in s, "h switches too")
    tmux.send_bytes("l")
    tmux.wait(lambda s: "‹ 2/2 ›" in s, "l switches too")
