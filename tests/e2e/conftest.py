"""Fixtures for the end-to-end tests: the fake model server, an isolated home, tmux.

``chat_tui_in_tmux`` starts the installed ``chat-tui`` binary (TERM=xterm-256color)
in a private tmux server at the test's size; the fake OpenAI-compatible server runs
in this process, so a test can look at the requests the app made.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.tmux import Tmux, tmux_available
from tests.support.fake_openai import FakeOpenAI

BINARY = Path(sys.executable).parent / "chat-tui"
SECRET = "sk-e2e-secret-key"

#: The two sizes every key test runs at: roomy, and the classic 80x24.
SIZES = [pytest.param((160, 45), id="160x45"), pytest.param((80, 24), id="80x24")]

needs_tmux = pytest.mark.skipif(not tmux_available(), reason="tmux is not installed")
needs_binary = pytest.mark.skipif(not BINARY.exists(), reason="chat-tui is not installed here")


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def app_env(home: Path, base_url: str) -> dict[str, str]:
    """The environment of an isolated chat-tui: its own config and data dirs."""
    config = home / "config" / "chat-tui"
    config.mkdir(parents=True, exist_ok=True)
    config_file = config / "config.toml"
    if not config_file.exists():
        config_file.write_text(
            'provider = "openai"\n[providers.openai]\nmodel = "fake-model"\n'
            "timeout = 10\nmax_retries = 1\n"
            '[providers.other]\nbase_url = "' + base_url + '"\nmodel = "fake-model"\n'
            'api_key_env = "OTHER_KEY"\n'
            "[retrieval]\nenabled = false\n",
            encoding="utf-8",
        )
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "OPENAI_BASE_URL": base_url,
        "OPENAI_API_KEY": SECRET,
        "OTHER_KEY": "sk-other",
        "TERM": "xterm-256color",
    }
    for name in ("CHAT_TUI_DATA_DIR", "CHAT_TUI_CONFIG_DIR", "CHAT_TUI_PROVIDER", "CHAT_TUI_MODEL"):
        env.pop(name, None)
    return env


@pytest.fixture
def chat_tui_in_tmux(tmp_path: Path, fake_server: FakeOpenAI) -> Iterator[Callable[..., Tmux]]:
    """A factory: ``start(size, *args)`` runs chat-tui in tmux and waits for its prompt."""
    started: list[Tmux] = []

    def start(size: tuple[int, int], *args: str, env: dict[str, str] | None = None) -> Tmux:
        tmux = Tmux(tmp_path, env or app_env(tmp_path / "home", fake_server.url), size)
        started.append(tmux)
        tmux.start([str(BINARY), *args])
        tmux.wait_for("Ask anything")
        return tmux

    yield start
    for tmux in started:
        tmux.close()
