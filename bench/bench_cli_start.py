"""Start-up time of the CLI commands people run from scripts, as real processes.

Issue 9 point 6 wants ``chat-tui --version``, ``sessions``, ``kb search`` and ``ask`` to
start in under 300 ms before their real work. Each run starts the installed
``.venv/bin/chat-tui`` with a fresh data and config dir (``CHAT_TUI_DATA_DIR`` /
``CHAT_TUI_CONFIG_DIR``) and times:

- ``--version``, ``sessions list``, ``roles list``, ``kb search`` with no knowledge base:
  until the process exits;
- ``kb search`` against a Milvus server: until the process opens a connection to it (a
  plain TCP listener on 127.0.0.1 given as ``CHAT_TUI_MILVUS_URI`` records the moment);
- ``ask``: until the chat request reaches the fake OpenAI server (tests/support);
- ``kb search`` on a real one-file knowledge base (ingested once, BM25) until the
  process exits: with its local Milvus Lite server running, and with it stopped first
  (its start and the first jieba search are then part of the time).

Prints p50/p95 in ms per command, with the load average.

    python bench/bench_cli_start.py [--runs 15] [--only "ask until sent"]
    python bench/bench_cli_start.py --chat-tui /work/main/.venv/bin/chat-tui  # before
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fake_openai import FakeOpenAI  # noqa: E402

CHAT_TUI = ROOT / ".venv" / "bin" / "chat-tui"


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHAT_TUI_", "OPENAI_"))}
    env.update(
        CHAT_TUI_DATA_DIR=str(tmp / "data"),
        CHAT_TUI_CONFIG_DIR=str(tmp / "config"),
        OPENAI_API_KEY="sk-bench",
        **extra,
    )
    return env


def until_exit(args: list[str]) -> Callable[[Path], float]:
    def run(tmp: Path) -> float:
        start = time.perf_counter()
        done = subprocess.run([str(CHAT_TUI), *args], env=_env(tmp), capture_output=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{args} failed: {done.stderr.decode(errors='replace')}")
        return elapsed

    return run


def _until(
    proc_args: list[str], env: dict[str, str], arrived: threading.Event, at: list[float]
) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(CHAT_TUI), *proc_args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        if not arrived.wait(30):
            raise SystemExit(
                f"{proc_args}: nothing arrived ({proc.stderr.read() if proc.stderr else ''})"
            )
        return at[0] - start
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def kb_search_until_store(tmp: Path) -> float:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    arrived, at = threading.Event(), [0.0]

    def accept() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        at[0] = time.perf_counter()
        arrived.set()
        conn.close()

    threading.Thread(target=accept, daemon=True).start()
    uri = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        return _until(["kb", "search", "hello"], _env(tmp, CHAT_TUI_MILVUS_URI=uri), arrived, at)
    finally:
        listener.close()


def ask_until_sent(tmp: Path) -> float:
    with FakeOpenAI() as fake:
        arrived, at = threading.Event(), [0.0]

        def wait() -> None:
            fake.wait_for_requests(1, timeout=30)
            at[0] = time.perf_counter()
            arrived.set()

        threading.Thread(target=wait, daemon=True).start()
        env = _env(tmp, OPENAI_BASE_URL=fake.url, CHAT_TUI_MODEL="fake-model")
        return _until(["ask", "--no-kb", "hello"], env, arrived, at)


_kb_home: list[Path] = []


def kb_home() -> Path:
    """A data dir with a one-file knowledge base (BM25), ingested once per bench run."""
    if not _kb_home:
        home = Path(tempfile.mkdtemp(prefix="bench-cli-kb-"))
        (home / "docs").mkdir()
        (home / "docs" / "w.md").write_text(
            "# Wombats\n\nWombats dig burrows with their claws.\n\n使用 pip 安装向量数据库。\n",
            encoding="utf-8",
        )
        done = subprocess.run(
            [str(CHAT_TUI), "ingest", str(home / "docs")], env=_env(home), capture_output=True
        )
        if done.returncode != 0:
            raise SystemExit(f"ingest failed: {done.stderr.decode(errors='replace')}")
        _kb_home.append(home)
    return _kb_home[0]


def kb_search_warm(tmp: Path) -> float:
    """``kb search`` on a real knowledge base, its server running: until the answer."""
    return until_exit(["kb", "search", "wombats"])(kb_home())


def kb_search_cold(tmp: Path) -> float:
    """The same with the server stopped first (untimed): its start and jieba's dict count."""
    home = kb_home()
    subprocess.run([str(CHAT_TUI), "kb", "stop"], env=_env(home), capture_output=True, check=True)
    return until_exit(["kb", "search", "wombats"])(home)


COMMANDS: dict[str, Callable[[Path], float]] = {
    "--version": until_exit(["--version"]),
    "sessions list": until_exit(["sessions", "list"]),
    "roles list": until_exit(["roles", "list"]),
    "kb search (no KB)": until_exit(["kb", "search", "hello"]),
    "kb search until store": kb_search_until_store,
    "ask until sent": ask_until_sent,
    "kb search, warm server": kb_search_warm,
    "kb search, cold server": kb_search_cold,
}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", action="append", help="just this command (repeatable)")
    parser.add_argument(
        "--chat-tui", type=Path, help="another install's chat-tui (e.g. main's, for before/after)"
    )
    args = parser.parse_args()
    global CHAT_TUI
    CHAT_TUI = args.chat_tui or CHAT_TUI
    print(f"load {os.getloadavg()[0]:.2f}, {args.runs} runs each, {CHAT_TUI}")
    print(f"{'command':<24}{'p50 ms':>8}{'p95 ms':>8}")
    for name, command in COMMANDS.items():
        if args.only and name not in args.only:
            continue
        times = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                times.append(command(Path(tmp)) * 1000)
        print(f"{name:<24}{statistics.median(times):>8.0f}{p95(times):>8.0f}")
    for home in _kb_home:
        subprocess.run([str(CHAT_TUI), "kb", "stop"], env=_env(home), capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
