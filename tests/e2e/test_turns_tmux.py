"""End to end: a turn survives the process that was answering it.

A real ``chat-tui ask`` process streams a slow answer from the local fake server
and is killed with SIGKILL mid-answer; after that, the history holds the partial
answer up to at least its last checkpoint, marked as interrupted (issue 7.6).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chat_tui.services.chat import CHECKPOINT_CHARS, INTERRUPTED_NOTE
from chat_tui.storage.tinydb_repo import TinyDBRepository
from tests.conftest import SECRET_KEY, make_settings
from tests.support.fake_openai import Reply

pytestmark = pytest.mark.e2e

BINARY = Path(sys.executable).parent / "chat-tui"
ANSWER = "".join(f"word{i:05d} " for i in range(6_000))  # 60 KB, streamed over ~40 s


def stored_answer_lengths(sessions_dir: Path) -> list[int]:
    """Lengths of assistant texts in the session files, read as bytes on disk.

    Read directly (not by opening a repository, which tidies the folder) from files
    that are only ever replaced atomically, so a read never sees half a write.
    """
    lengths: list[int] = []
    for path in sessions_dir.glob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("role") == "assistant" and isinstance(node.get("content"), str):
                    lengths.append(len(node["content"]))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(data)
    return lengths


@pytest.mark.skipif(not BINARY.exists(), reason="chat-tui is not installed in this environment")
def test_kill_9_mid_answer_keeps_the_text_up_to_the_last_checkpoint(
    fake_openai, isolated_home: Path
) -> None:
    settings = make_settings(fake_openai.url, home=isolated_home)
    fake_openai.script(Reply(content=ANSWER, chunk_chars=6, delay=0.004))
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(isolated_home / "xdg-data"),
        "XDG_CONFIG_HOME": str(isolated_home / "xdg-config"),
        "OPENAI_BASE_URL": fake_openai.url,
        "OPENAI_API_KEY": SECRET_KEY,
    }
    sessions_dir = settings.history_dir / "sessions"
    process = subprocess.Popen(
        [str(BINARY), "ask", "--no-kb", "tell me everything"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    out = process.stdout.fileno()
    printed_bytes = bytearray()
    try:
        # Wait for at least two checkpoints, then kill right after seeing the latest one.
        # Each round blocks until the answer prints more (or 0.2 s), then looks at the disk.
        deadline = time.monotonic() + 120
        seen = 0
        while seen < 2 * CHECKPOINT_CHARS:
            assert process.poll() is None, "ask ended before it was killed"
            assert time.monotonic() < deadline, f"no checkpoint grew past {seen} characters"
            if select.select([out], [], [], 0.2)[0]:
                printed_bytes += os.read(out, 65536)
            seen = max(stored_answer_lengths(sessions_dir), default=0)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        printed_bytes += process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    printed = printed_bytes.decode("utf-8", "replace")
    assert process.returncode == -signal.SIGKILL

    repository = TinyDBRepository(settings.history_dir)
    try:
        (session,) = repository.list_sessions()
        user, answer = repository.messages(session.id)
    finally:
        repository.close()
    assert user.content == "tell me everything"
    assert answer.status.value in {"interrupted", "stopped"}  # "stopped" until storage has it
    assert answer.error == INTERRUPTED_NOTE
    assert ANSWER.startswith(answer.content)
    assert len(answer.content) >= seen  # nothing of the last checkpoint seen is lost
    # Nearly all of what was printed: at most about one checkpoint's worth is missing.
    assert printed.startswith(answer.content)
    assert len(printed) - len(answer.content) <= 2 * CHECKPOINT_CHARS
