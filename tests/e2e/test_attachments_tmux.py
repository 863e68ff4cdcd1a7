"""End to end: attaching images in a real terminal, as its bytes (ctrl+t, Tab, a paste).

ctrl+t arrives as its control byte (0x14), Tab as 0x09, and a dropped file as a
bracketed paste (``ESC [200~ ... ESC [201~``) of its backslash-escaped path, which
is what GNOME Terminal, iTerm2 and kitty send. Run at 160x45 and 80x24.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import SIZES, needs_binary, needs_tmux
from tests.e2e.tmux import Tmux
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.images import write_png

pytestmark = [pytest.mark.e2e, needs_tmux, needs_binary]

Start = Callable[..., Tmux]
CTRL_T, TAB, ENTER = "\x14", "\t", "\r"


def bracketed_paste(text: str) -> str:
    return f"\x1b[200~{text}\x1b[201~"


@pytest.mark.parametrize("size", SIZES)
def test_ctrl_t_tab_completion_and_a_dropped_file_attach_images(
    chat_tui_in_tmux: Start, fake_server: FakeOpenAI, tmp_path: Path, size: tuple[int, int]
) -> None:
    pictures = tmp_path / "home" / "Pictures"
    write_png(pictures / "holiday.png", width=40, height=20)
    dropped = write_png(pictures / "my cat.png", rgb=(5, 5, 5))
    fake_server.script(Reply(content="Two pictures."))
    tmux = chat_tui_in_tmux(size)

    tmux.send_bytes(CTRL_T)
    tmux.wait_for("Tab completes")  # shown once the path input has the focus
    tmux.type("Pic")
    tmux.send_bytes(TAB)
    tmux.wait_for("~/Pictures/")
    tmux.type("ho")
    tmux.send_bytes(TAB)
    tmux.wait_for("~/Pictures/holiday.png")
    tmux.send_bytes(ENTER)
    tmux.wait(lambda s: "▣ holiday.png" in s and "Attach an image" not in s, "the chip")

    tmux.send_bytes(bracketed_paste(str(dropped).replace(" ", "\\ ")))
    tmux.wait_for("▣ my cat.png")
    assert "Pictures" not in tmux.screen().split("▣ my cat.png")[0].splitlines()[-1]

    tmux.type("What are these?")
    tmux.send_bytes(ENTER)
    fake_server.wait_for_requests(1)
    parts = fake_server.requests[0]["messages"][-1]["content"]
    assert parts[0] == {"type": "text", "text": "What are these?"}
    assert [p["type"] for p in parts[1:]] == ["image_url", "image_url"]
    assert all(p["image_url"]["url"].startswith("data:image/png;base64,") for p in parts[1:])
    tmux.wait(lambda s: "Two pictures." in s and "tokens" in s, "the answer")
    screen = tmux.screen()
    assert "▣ holiday.png" in screen and "▣ my cat.png" in screen  # in the sent message

    # ctrl+o selects the answer, up the question with the images; v previews them,
    # drawn as half blocks in the images' colours; Esc closes.
    tmux.send_bytes("\x0f")
    tmux.send_bytes("\x1b[A")
    tmux.send_bytes("v")
    tmux.wait(lambda s: "2 images" in s and "▀" in s, "the previews")
    # Each preview line is coloured cells: a foreground colour escape before its blocks.
    drawn = [line for line in tmux.styled_screen().splitlines() if "▀▀▀" in line]
    assert drawn and all("\x1b[" in line and "38;" in line for line in drawn)
    tmux.send_bytes("\x1b")
    tmux.wait_gone("2 images")
