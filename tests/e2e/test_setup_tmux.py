"""The first-run "Connect a model" screen, as a new user meets it in a real terminal.

With no key and no local server, chat-tui opens on how to connect a model. At 80x24 the
text is taller than the screen: its button must still be on screen and take Enter (the
text scrolls), and Esc must close it too, leaving the app usable.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import BINARY, SIZES, needs_binary, needs_tmux
from tests.e2e.tmux import Tmux

pytestmark = [pytest.mark.e2e, needs_tmux, needs_binary]


def first_run_env(home: Path) -> dict[str, str]:
    """A user with no config, no key and no server (the base URL points nowhere)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OPENAI_", "CHAT_TUI_", "XDG_"))
    }
    return {
        **env,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "TERM": "xterm-256color",
    }


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("close", ["\r", "\x1b"], ids=["enter", "escape"])
def test_setup_screen_fits_and_closes(tmp_path: Path, size: tuple[int, int], close: str) -> None:
    tmux = Tmux(tmp_path, first_run_env(tmp_path / "home"), size)
    try:
        tmux.start([str(BINARY)])
        screen = tmux.wait_for("Continue without a model")
        assert "Connect a model" in screen
        # Every line of the commands is whole: nothing wrapped onto a line of its own.
        assert "chat-tui --base-url http://127.0.0.1:11434/v1 -m llama3.2" in screen
        assert "OPENAI_API_KEY (and OPENAI_BASE_URL for another provider)," in screen
        tmux.send_bytes(close)
        tmux.wait_gone("Connect a model")
        tmux.wait_for("Ask anything")
        tmux.send_bytes("\x11")  # ctrl+q
        tmux.wait_exited()
    finally:
        tmux.close()
