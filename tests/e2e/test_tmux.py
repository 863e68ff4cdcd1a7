"""End to end: the installed ``chat-tui`` binary in tmux against the local fake server.

Types a question, reads the screen with ``capture-pane`` until the streamed answer
shows, quits, starts again and finds the history.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

BINARY = Path(sys.executable).parent / "chat-tui"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_openai", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the server announces itself when it listens
        assert str(port) in line, line
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.kill()
        process.wait()


class Tmux:
    """A detached tmux session whose output is mirrored into a FIFO.

    Waiting is event driven: block on the FIFO until the program writes to the
    terminal, then read the rendered screen with capture-pane; no fixed sleeps.
    """

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.env = env
        self.fifo = workdir / f"{name}.fifo"
        self.fd: int | None = None

    def start(self, command: str) -> None:
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", "120", "-y", "36", command],
            env=self.env,
            check=True,
        )
        if not self.fifo.exists():
            os.mkfifo(self.fifo)
        if self.fd is not None:
            os.close(self.fd)
        self.fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        subprocess.run(
            ["tmux", "pipe-pane", "-t", self.name, "-o", f"cat > {self.fifo}"], check=True
        )

    def _wait_output(self, timeout: float) -> None:
        """Block until the program writes something (or the timeout passes)."""
        assert self.fd is not None
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            try:
                os.read(self.fd, 1 << 16)
            except BlockingIOError:
                pass

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        out = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return out.stdout

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """Poll the pane until ``text`` shows (a condition wait with a deadline)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            self._wait_output(min(0.5, max(0.0, deadline - time.monotonic())))
        raise AssertionError(f"{text!r} never appeared on screen:\n{self.screen()}")

    def alive(self) -> bool:
        return (
            subprocess.run(["tmux", "has-session", "-t", self.name], capture_output=True).returncode
            == 0
        )

    def wait_closed(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return
            self._wait_output(min(0.5, max(0.0, deadline - time.monotonic())))
        raise AssertionError("chat-tui did not exit")

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.skipif(not BINARY.exists(), reason="chat-tui is not installed in this environment")
def test_installed_binary_chats_and_remembers(fake_server: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "OPENAI_BASE_URL": fake_server,
        "OPENAI_API_KEY": "sk-e2e-secret-key",
        "TERM": "xterm-256color",
    }
    env.pop("TMUX", None)
    tmux = Tmux(f"chat-tui-e2e-{os.getpid()}", env, tmp_path)
    try:
        tmux.start(f"{BINARY} --model fake-model")
        tmux.wait_for("Ask anything")
        tmux.keys("-l", "What is chat-tui?")
        tmux.keys("Enter")
        screen = tmux.wait_for("You asked: What is chat-tui?")
        assert "What is chat-tui?" in screen
        assert "sk-e2e-secret-key" not in screen
        tmux.keys("C-q")
        tmux.wait_closed()

        tmux.start(f"{BINARY} --model fake-model")
        screen = tmux.wait_for("You asked: What is chat-tui?")
        assert "What is chat-tui?" in screen
        tmux.keys("C-q")
        tmux.wait_closed()
    finally:
        tmux.kill()
