"""End to end: the installed ``chat-tui`` in tmux, every README key as its bytes.

A person's terminal sends bytes, not key names: these tests type each binding of the
README's table as the bytes a terminal writes (``send-keys -H``): xterm/tmux style
(``ESC 2`` for alt+2, ``ESC [ 1 ; 5 A`` for ctrl+up, ``ESC O P`` for F1), the kitty
keyboard protocol's CSI u form where it differs (``ESC [ 50 ; 3 u``), and tmux's own
key names (``M-2``) for good measure. Each key's effect is read off the screen
(``capture-pane``), from the raw bytes the app wrote (OSC 52 copies), or from the
requests the local fake model server received. Every test runs at 160x45 and 80x24.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from tests.e2e.conftest import BINARY, SIZES, needs_binary, needs_tmux
from tests.e2e.tmux import Tmux
from tests.support.fake_openai import FakeOpenAI, Reply

pytestmark = [pytest.mark.e2e, needs_tmux, needs_binary]

Start = Callable[..., Tmux]

# What an xterm-compatible terminal (and tmux) sends for each key.
ENTER = "\r"
CTRL_J = "\n"
ESC = "\x1b"
UP, DOWN, RIGHT = "\x1b[A", "\x1b[B", "\x1b[C"
PAGE_UP, PAGE_DOWN = "\x1b[5~", "\x1b[6~"
CTRL_HOME, CTRL_END = "\x1b[1;5H", "\x1b[1;5F"
CTRL_UP, CTRL_DOWN = "\x1b[1;5A", "\x1b[1;5B"
CTRL_PAGE_UP, CTRL_PAGE_DOWN = "\x1b[5;5~", "\x1b[6;5~"
F1, F2, F3, F4 = "\x1bOP", "\x1bOQ", "\x1bOR", "\x1bOS"
F5, F6 = "\x1b[15~", "\x1b[17~"
BACKSPACE = "\x7f"


def ctrl(letter: str) -> str:
    return chr(ord(letter.lower()) - ord("a") + 1)


def kitty(codepoint: int, modifiers: int) -> str:
    """The kitty keyboard protocol's form: CSI codepoint ; 1+modifier-bits u."""
    return f"\x1b[{codepoint};{modifiers}u"


KITTY_ALT = 3  # 1 + alt(2)
KITTY_SHIFT = 2  # 1 + shift(1)


def status_line(screen: str) -> str:
    """The status line: the line above the footer."""
    return screen.rstrip("\n").splitlines()[-2]


def prompt_text(screen: str) -> str:
    """The text inside the prompt's box (the last ╭…╰ box on the screen)."""
    lines = screen.rstrip("\n").splitlines()
    bottom = max(i for i, line in enumerate(lines) if "╰" in line)
    top = max(i for i, line in enumerate(lines[:bottom]) if "╭" in line)
    inside = [line.split("│")[1].strip() if "│" in line else "" for line in lines[top + 1 : bottom]]
    return "\n".join(inside).strip()


def osc52(text: str) -> bytes:
    """What the app writes to put ``text`` on the clipboard."""
    return b"\x1b]52;c;" + base64.b64encode(text.encode("utf-8"))


def ask(tmux: Tmux, fake: FakeOpenAI, question: str) -> None:
    before = len(fake.requests)
    tmux.type(question)
    tmux.send_bytes(ENTER)
    fake.wait_for_requests(before + 1, timeout=40)
    tmux.wait_for(f"You asked: {question}")
    tmux.wait(lambda s: "tokens" in s and "thinking" not in s, "the answer to finish")


def last_user_content(fake: FakeOpenAI) -> str:
    return str(fake.requests[-1]["messages"][-1]["content"])


@pytest.mark.parametrize("size", SIZES)
def test_prompt_keys_send_newline_and_recall(
    chat_tui_in_tmux: Start, fake_server: FakeOpenAI, size: tuple[int, int]
) -> None:
    tmux = chat_tui_in_tmux(size)
    # ctrl+j (LF) inserts a line break; Enter (CR) sends the whole text.
    tmux.type("first line")
    tmux.send_bytes(CTRL_J)
    tmux.type("second")
    tmux.wait(lambda s: prompt_text(s) == "first line\nsecond", "two lines in the prompt")
    assert fake_server.requests == []
    tmux.send_bytes(ENTER)
    fake_server.wait_for_requests(1)
    assert last_user_content(fake_server) == "first line\nsecond"
    tmux.wait_for("You asked: first line")

    # kitty protocol: shift+enter and alt+enter as CSI u insert line breaks too.
    tmux.wait(lambda s: "tokens" in s, "the first answer")
    tmux.type("a")
    tmux.send_bytes(kitty(13, KITTY_SHIFT))
    tmux.type("b")
    tmux.send_bytes(kitty(13, KITTY_ALT))
    tmux.type("c")
    tmux.wait(lambda s: prompt_text(s) == "a\nb\nc", "kitty newlines")
    assert len(fake_server.requests) == 1
    tmux.send_bytes(ENTER)
    fake_server.wait_for_requests(2)
    assert last_user_content(fake_server) == "a\nb\nc"
    tmux.wait(lambda s: "Ask anything" in s and "tokens" in s, "the second answer")

    # Up on the (only) line walks back through what was sent; Down comes back.
    tmux.type("draft")
    tmux.send_bytes(UP)
    tmux.wait(lambda s: prompt_text(s) == "a\nb\nc", "the last prompt recalled")
    tmux.send_bytes(UP)
    tmux.wait(lambda s: prompt_text(s) == "first line\nsecond", "the one before")
    tmux.send_bytes(DOWN)
    tmux.send_bytes(DOWN)
    tmux.wait(lambda s: prompt_text(s) == "a\nb\nc", "forward again")
    tmux.send_bytes(DOWN)
    tmux.wait(lambda s: prompt_text(s) == "draft", "the draft kept")
    assert len(fake_server.requests) == 2

    # The history survives a restart.
    tmux.send_bytes(ctrl("q"))
    tmux.wait_exited()
    tmux.restart([str(BINARY)])
    tmux.wait_for("You asked: a")  # the session and its answers came back
    assert "sk-e2e-secret-key" not in tmux.screen()
    tmux.send_bytes(UP)
    tmux.wait(lambda s: prompt_text(s) == "a\nb\nc", "history after a restart")


@pytest.mark.parametrize("size", SIZES)
def test_scroll_select_and_copy_keys(
    chat_tui_in_tmux: Start, fake_server: FakeOpenAI, size: tuple[int, int]
) -> None:
    tmux = chat_tui_in_tmux(size)
    for question in ("q-one", "q-two", "q-three"):
        ask(tmux, fake_server, question)
    # PageUp / PageDown / ctrl+home / ctrl+end from the prompt scroll the chat.
    tmux.send_bytes(CTRL_HOME)
    tmux.wait(lambda s: "q-one" in s and "You asked: q-three" not in s, "the top of the chat")
    tmux.send_bytes(CTRL_END)
    tmux.wait_for("You asked: q-three")
    tmux.send_bytes(PAGE_UP)
    tmux.wait_gone("You asked: q-three")
    tmux.send_bytes(PAGE_DOWN)
    tmux.wait_for("You asked: q-three")
    # The prompt still has the focus: typing types.
    tmux.type("typed")
    tmux.wait(lambda s: prompt_text(s) == "typed", "typing after scrolling")
    for left in ("type", "typ", "ty", "t"):
        tmux.send_bytes(BACKSPACE)
        tmux.wait(lambda s, left=left: prompt_text(s) == left, f"{left!r} left")
    tmux.send_bytes(BACKSPACE)
    tmux.wait(lambda s: prompt_text(s).startswith("Ask anything"), "an empty prompt")

    answer = str(fake_server.default_reply.content).replace("{question}", "q-three")
    # ctrl+y copies the last answer (OSC 52).
    tmux.send_bytes(ctrl("y"))
    tmux.wait_raw(osc52(answer))
    # ctrl+o moves into the chat: the last message is selected; y copies it, c its code.
    tmux.send_bytes(ctrl("o"))
    tmux.wait_for("chat: ↑/↓ select")
    tmux.send_bytes("c")
    code = 'def greet(name: str) -> str:\n    return f"Hello, {name}!"\n\nprint(greet("world"))\n'
    tmux.wait_raw(osc52(code))
    tmux.send_bytes(UP)
    tmux.send_bytes("y")
    tmux.wait_raw(osc52("q-three"))
    tmux.send_bytes("k" + UP + "y")  # k is up too
    tmux.wait_raw(osc52("q-two"))
    tmux.send_bytes("j" + "y")  # j is down
    raw = tmux.wait_raw(osc52(answer.replace("q-three", "q-two")))
    assert b"sk-e2e-secret-key" not in raw
    # p shows an answer's full source paths; this one has none and says so.
    tmux.send_bytes("p")
    tmux.wait_for("This answer has no sources")
    # Esc goes back to the prompt, and typing types again. (A terminal can't tell Esc
    # from the start of alt+key until ESCDELAY passes: wait for its effect.)
    tmux.wait(lambda s: "chat: ↑/↓ select" in s and "Copied" not in s, "the hint, no notifications")
    tmux.send_bytes(ESC)
    tmux.wait_for("ctrl+o select messages")
    # i goes back to the prompt too.
    tmux.send_bytes(ctrl("o"))
    tmux.wait_for("chat: ↑/↓ select")
    tmux.send_bytes("i")
    tmux.wait_for("ctrl+o select messages")
    tmux.type("back")
    tmux.wait(lambda s: prompt_text(s) == "back", "typing in the prompt again")
    assert len(fake_server.requests) == 3


@pytest.mark.parametrize("size", SIZES)
def test_role_and_session_keys(
    chat_tui_in_tmux: Start, fake_server: FakeOpenAI, size: tuple[int, int]
) -> None:
    tmux = chat_tui_in_tmux(size)
    tmux.wait(lambda s: " assistant " in status_line(s), "the status line")
    # alt+N as an ESC-prefix terminal sends it, as kitty sends it, as tmux encodes M-N.
    tmux.send_bytes("\x1b2")
    tmux.wait(lambda s: " teacher " in status_line(s), "alt+2 (ESC 2) -> teacher")
    tmux.send_bytes(kitty(ord("3"), KITTY_ALT))
    tmux.wait(lambda s: " programmer " in status_line(s), "alt+3 (CSI u) -> programmer")
    tmux.keys("M-1")
    tmux.wait(lambda s: " assistant " in status_line(s), "alt+1 (M-1) -> assistant")
    # There is no role 4: ESC 4 is the character it stands for, and it types.
    tmux.send_bytes("\x1b4")
    tmux.wait(lambda s: prompt_text(s) == "¢", "ESC 4 types ¢ with three roles")
    tmux.send_bytes(BACKSPACE)
    tmux.wait(lambda s: "Ask anything" in s and " assistant " in status_line(s), "role kept")

    # Sessions: ctrl+n, ctrl+up / ctrl+down, ctrl+pageup / ctrl+pagedown. (The chat
    # shows "You asked: ..."; the sidebar lists the titles of both at 160 columns.)
    FIRST, SECOND = "You asked: in-the-first", "You asked: in-the-second"
    ask(tmux, fake_server, "in-the-first")
    tmux.send_bytes(ctrl("n"))
    tmux.wait_gone("You asked: in-the-first")
    ask(tmux, fake_server, "in-the-second")
    tmux.send_bytes(CTRL_DOWN)
    tmux.wait(lambda s: FIRST in s and SECOND not in s, "ctrl+down")
    tmux.send_bytes(CTRL_UP)
    tmux.wait(lambda s: SECOND in s and FIRST not in s, "ctrl+up")
    tmux.send_bytes(CTRL_PAGE_DOWN)
    tmux.wait(lambda s: FIRST in s and SECOND not in s, "ctrl+pagedown")
    tmux.send_bytes(CTRL_PAGE_UP)
    tmux.wait(lambda s: SECOND in s and FIRST not in s, "ctrl+pageup")

    # ctrl+r: the role picker; Esc closes it.
    tmux.send_bytes(ctrl("r"))
    tmux.wait_for("Choose a role")
    tmux.send_bytes(ESC)
    tmux.wait_gone("Choose a role")
    # F2 renames.
    tmux.send_bytes(F2)
    tmux.wait_for("Rename session")
    tmux.type("Renamed-X")
    tmux.send_bytes(ENTER)
    tmux.wait(lambda s: "Renamed-X" in status_line(s), "the new title in the status line")
    # ctrl+l asks; the hint shows the keys; Enter presses the focused Cancel.
    tmux.send_bytes(ctrl("l"))
    # The dialog's hint line follows the focus, so it may be drawn a frame after the title.
    tmux.wait(
        lambda s: (
            "Clear all messages" in s
            and "y Clear" in s
            and "n / Esc Cancel" in s
            and "Enter presses Cancel" in s
        ),
        "the clear dialog with its key hints",
    )
    tmux.send_bytes(ENTER)
    tmux.wait_gone("Clear all messages")
    assert SECOND in tmux.screen()
    tmux.send_bytes(ctrl("l"))
    tmux.wait_for("Clear all messages")
    tmux.send_bytes("y")
    tmux.wait(lambda s: SECOND not in s and "Clear all" not in s, "cleared, dialog closed")
    # ctrl+d asks; n keeps; right moves to Delete and Enter presses it.
    tmux.send_bytes(ctrl("d"))
    tmux.wait_for("Delete session")
    tmux.send_bytes("n")
    tmux.wait_gone("Delete session")
    # ctrl+d and right typed in one go, as a fast typist does: right reaches the dialog
    # before it has drawn, and must still move the focus from Cancel to Delete.
    tmux.send_bytes(ctrl("d") + RIGHT)
    tmux.wait_for("Enter presses Delete")
    tmux.send_bytes(ENTER)
    tmux.wait_for("Session deleted")

    # ctrl+s shows / hides the sidebar (hidden by itself at 80 columns).
    sidebar_header = "assistant ("
    wide = size[0] >= 96
    assert (sidebar_header in tmux.screen()) == wide
    tmux.send_bytes(ctrl("s"))
    tmux.wait(lambda s: (sidebar_header in s) != wide, "the sidebar toggled")
    tmux.send_bytes(ctrl("s"))
    tmux.wait(lambda s: (sidebar_header in s) == wide, "the sidebar back")
    # ctrl+q quits.
    tmux.send_bytes(ctrl("q"))
    tmux.wait_exited()


@pytest.mark.parametrize("size", SIZES)
def test_answer_and_settings_keys_and_choices_persist(
    chat_tui_in_tmux: Start, fake_server: FakeOpenAI, size: tuple[int, int]
) -> None:
    tmux = chat_tui_in_tmux(size)
    # Esc stops a streaming answer; the partial answer is kept.
    fake_server.script(Reply(content="slow " * 400, delay=0.05, chunk_chars=5))
    tmux.type("go slowly")
    tmux.send_bytes(ENTER)
    tmux.wait_for("slow slow")
    tmux.send_bytes(ESC)
    tmux.wait_for("stopped")
    # ctrl+g regenerates.
    tmux.send_bytes(ctrl("g"))
    fake_server.wait_for_requests(2)
    tmux.wait_for("You asked: go slowly")
    # ctrl+b: knowledge base off / on for this session.
    tmux.send_bytes(ctrl("b"))
    tmux.wait_for("Knowledge base off for this session")
    # F3, F6: knowledge-base search and picker open (Esc closes).
    tmux.send_bytes(F3)
    tmux.wait_for("Search knowledge base")
    tmux.send_bytes(ESC)
    tmux.wait_gone("Search knowledge base")
    tmux.send_bytes(F6)
    tmux.wait_for("Knowledge base for this session")
    tmux.send_bytes(ESC)
    tmux.wait_gone("Knowledge base for this session")
    # F1 help and ctrl+p palette.
    tmux.send_bytes(F1)
    tmux.wait_for("chat-tui keys")
    tmux.send_bytes(ESC)
    tmux.wait_gone("chat-tui keys")
    tmux.send_bytes(ctrl("p"))
    tmux.wait_for("Search for commands")
    tmux.send_bytes(ESC)
    tmux.wait_gone("Search for commands")
    # F4 picks a model from /v1/models; the next request uses it.
    tmux.send_bytes(F4)
    tmux.wait_for("Model (openai)")
    tmux.type("model-2")
    tmux.send_bytes(ENTER)
    tmux.wait(lambda s: "fake-model-2" in status_line(s), "the model in the status line")
    ask(tmux, fake_server, "which model")
    assert fake_server.requests[-1]["model"] == "fake-model-2"
    # F5 switches provider.
    tmux.send_bytes(F5)
    tmux.wait_for("Provider profile")
    tmux.type("other")
    tmux.send_bytes(ENTER)
    tmux.wait_for("Provider: other")
    # Both choices hold after a restart (state file, config.toml untouched).
    tmux.send_bytes(ctrl("q"))
    tmux.wait_exited()
    tmux.restart([str(BINARY)])
    tmux.wait_for("Ask anything")
    ask(tmux, fake_server, "after restart")
    assert fake_server.headers[-1]["authorization"] == "Bearer sk-other"  # provider kept
    tmux.send_bytes(F5)
    tmux.wait_for("Provider profile")
    tmux.type("openai")
    tmux.send_bytes(ENTER)
    tmux.wait(lambda s: "fake-model-2" in status_line(s), "openai's model kept")
