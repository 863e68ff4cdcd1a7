"""End to end: ctrl+f in the installed ``chat-tui`` in tmux, as a terminal sends it (0x06).

The history is written before start as another chat-tui would have left it: a long
session of another role holding the word searched for, early on (so opening it has to
bring an earlier page in), and a newer session the app opens first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from chat_tui.domain.models import Message, Session
from tests.e2e.conftest import SIZES, needs_binary, needs_tmux
from tests.e2e.tmux import Tmux
from tests.support.history import import_sessions

pytestmark = [pytest.mark.e2e, needs_tmux, needs_binary]

Start = Callable[..., Tmux]
CTRL_F, ENTER, ESC = "\x06", "\r", "\x1b"


def _seed(home: Path) -> None:
    old = Session(role="programmer", title="Parsing notes", created_at=1000.0, updated_at=1000.0)
    messages = [
        Message(
            old.id, "user" if n % 2 == 0 else "assistant", f"filler turn {n}", created_at=1000.0 + n
        )
        for n in range(40)
    ]
    messages.insert(4, Message(old.id, "user", "Where did the quokka go?", created_at=1003.5))
    recent = Session(role="assistant", title="Recent chat", created_at=9e8, updated_at=9e8)
    import_sessions(
        home / "data" / "chat-tui" / "history",
        [(old, messages), (recent, [Message(recent.id, "user", "hello there")])],
    )


@pytest.mark.parametrize("size", SIZES)
def test_ctrl_f_searches_every_role_and_opens_the_message(
    chat_tui_in_tmux: Start, tmp_path: Path, size: tuple[int, int]
) -> None:
    _seed(tmp_path / "home")
    tmux = chat_tui_in_tmux(size)
    tmux.wait_for("hello there")
    tmux.send_bytes(CTRL_F)  # the prompt has the focus: ctrl+f must not stay in it
    tmux.wait_for("Search all history")
    tmux.type("QUOK")
    tmux.wait(lambda s: "Parsing notes" in s and "1 match" in s, "the hit in another role")
    tmux.send_bytes(ENTER)
    tmux.wait(
        lambda s: "Where did the quokka go?" in s and "Search all history" not in s,
        "the session opened at the message",
    )
    assert "programmer" in tmux.screen()
    # Esc leaves the selected message for the prompt; ctrl+f again, Esc closes it.
    tmux.send_bytes(ESC)
    tmux.send_bytes(CTRL_F)
    tmux.wait_for("Search all history")
    tmux.send_bytes(ESC)
    tmux.wait_gone("Search all history")
