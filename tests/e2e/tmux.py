"""Drive a program in a real terminal: a detached tmux session on its own server.

The e2e tests type keys the way a person's terminal sends them (``send-keys -H`` with
the raw bytes, or tmux's own key names, which tmux encodes as xterm does) and read
what the person would see (``capture-pane``). Every ``Tmux`` runs its own tmux server
(``tmux -L <unique socket>`` with no config file), so parallel test runs and a user's
own tmux never meet.

The program's raw output (every byte it writes to the terminal, escapes included) is
copied to ``raw_path`` by ``pipe-pane``: tests use it to find OSC 52 clipboard writes
and to prove that nothing but the app drew on the terminal. Waiting is event driven:
block on a FIFO until the program writes, then look at the screen again.
"""

from __future__ import annotations

import os
import select
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

#: A generous default: the test machine is loaded, and start-up imports Textual.
DEFAULT_TIMEOUT = 40.0


def tmux_available() -> bool:
    return shutil.which("tmux") is not None


def hex_bytes(data: str | bytes) -> list[str]:
    """``data`` as the hex arguments of ``tmux send-keys -H``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return [f"{byte:02x}" for byte in raw]


class Tmux:
    """One program in one tmux pane of a private tmux server."""

    def __init__(self, workdir: Path, env: Mapping[str, str], size: tuple[int, int]) -> None:
        """Args:
        workdir: where the FIFO and the raw-output file go (a test's tmp_path).
        env: the program's environment (TERM is set by the caller).
        size: (columns, rows) of the pane.
        """
        self.socket = f"chat-tui-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.env = {k: v for k, v in env.items() if k not in {"TMUX", "TMUX_PANE"}}
        self.size = size
        self.workdir = workdir
        self.raw_path = workdir / f"{self.socket}.raw"
        self._fifo = workdir / f"{self.socket}.fifo"
        self._fd: int | None = None
        self.target = "app"
        self._restarts = 0

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
        )

    def start(self, argv: list[str]) -> None:
        """Run ``argv`` in a fresh pane (a new session on this server)."""
        width, height = self.size
        command = " ".join(shlex.quote(a) for a in argv)
        env_args = [f"-e{k}={v}" for k, v in self.env.items() if k in {"TERM"}]
        self._tmux(
            "new-session",
            "-d",
            "-s",
            self.target,
            "-x",
            str(width),
            "-y",
            str(height),
            *env_args,
            command,
        )
        # Keep the pane after the program exits, so a crash stays readable.
        self._tmux("set-option", "-t", self.target, "remain-on-exit", "on")
        if not self._fifo.exists():
            os.mkfifo(self._fifo)
        if self._fd is None:
            # Read-write: we are a writer too, so the FIFO never reports end-of-file
            # between two pipe-pane programs (that would make select spin).
            self._fd = os.open(self._fifo, os.O_RDWR | os.O_NONBLOCK)
        raw = shlex.quote(str(self.raw_path))
        fifo = shlex.quote(str(self._fifo))
        self._tmux("pipe-pane", "-t", self.target, "-o", f"tee -a {raw} > {fifo}")

    # -- input

    def keys(self, *keys: str) -> None:
        """tmux key names (``Enter``, ``C-n``, ``M-2``, ``F5``, ``PageUp``...)."""
        self._tmux("send-keys", "-t", self.target, *keys)

    def type(self, text: str) -> None:
        """Literal text, as typed."""
        self._tmux("send-keys", "-t", self.target, "-l", text)

    def send_bytes(self, data: str | bytes) -> None:
        """Exactly these bytes, as a terminal would write them (e.g. ``"\\x1b2"``)."""
        self._tmux("send-keys", "-t", self.target, "-H", *hex_bytes(data))

    # -- output

    def _drain(self, timeout: float) -> None:
        assert self._fd is not None
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if ready:
            try:
                while os.read(self._fd, 1 << 16):
                    pass
            except BlockingIOError:
                pass

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.target, check=False).stdout

    def styled_screen(self) -> str:
        """The screen with its colours and styles, as SGR escape sequences (``-e``)."""
        return self._tmux("capture-pane", "-p", "-e", "-t", self.target, check=False).stdout

    def raw(self) -> bytes:
        try:
            return self.raw_path.read_bytes()
        except FileNotFoundError:
            return b""

    def wait(
        self, condition: Callable[[str], bool], what: str, timeout: float = DEFAULT_TIMEOUT
    ) -> str:
        """Wait until ``condition(screen)`` holds; the screen, or AssertionError."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if condition(screen):
                return screen
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{screen}")
            self._drain(min(0.25, left))

    def wait_for(self, text: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        return self.wait(lambda screen: text in screen, repr(text), timeout)

    def wait_gone(self, text: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        return self.wait(lambda screen: text not in screen, f"{text!r} to go", timeout)

    def wait_raw(self, needle: bytes, timeout: float = DEFAULT_TIMEOUT) -> bytes:
        """Wait until the program has written ``needle`` to the terminal."""
        deadline = time.monotonic() + timeout
        while True:
            raw = self.raw()
            if needle in raw:
                return raw
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{needle!r} never written; screen:\n{self.screen()}")
            self._drain(min(0.25, left))

    def exited(self) -> bool:
        out = self._tmux("display-message", "-p", "-t", self.target, "#{pane_dead}", check=False)
        return out.returncode != 0 or out.stdout.strip() == "1"

    def wait_exited(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self.exited():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the program did not exit; screen:\n{self.screen()}")
            self._drain(min(0.25, left))

    def restart(self, argv: list[str]) -> None:
        """Start ``argv`` in a new session, then end the old one (its program exited).

        In this order the server keeps a session throughout: killing the only session
        first made the server exit, and a new-session racing that exit failed now and
        then ("returned non-zero exit status 1" in CI).
        """
        old = self.target
        self._restarts += 1
        self.target = f"app{self._restarts}"
        self.start(argv)
        self._tmux("kill-session", "-t", old, check=False)

    def close(self) -> None:
        self._tmux("kill-server", check=False)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


__all__ = ["DEFAULT_TIMEOUT", "Tmux", "hex_bytes", "tmux_available"]
