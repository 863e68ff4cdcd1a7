"""Drive history-writing child processes, SIGKILL them at random instants, count losses.

Shared by the test suite (a short run) and ``bench/bench_kill.py`` (200+ kills).
Several writers run at once on one history; again and again one of them, chosen at
random, is killed after a random number of acknowledged operations (so the kill
lands at a random point of its next operation: mid-write, mid-lock, mid-catch-up)
and replaced by a new one. Afterwards every message any writer acknowledged (and
did not itself delete) must be stored, checkpoints at least as long as
acknowledged, each writer's shared-session messages in its own order, and every
file loadable with no repair notices.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from chat_tui.storage.atomic import is_temp_name
from chat_tui.storage.lock import lock_path
from chat_tui.storage.tinydb_repo import TinyDBRepository

REPO_ROOT = Path(__file__).resolve().parents[3]
LINE_DEADLINE_SECONDS = 120.0
"""Longest a child may go without reporting (generous: the machine is shared)."""


class Child:
    """One ``history_child`` process with a thread collecting its stdout lines.

    Args:
        args: the mode and its arguments (after the history dir).
        history_dir: the shared history.
    """

    def __init__(self, mode: str, history_dir: Path, *args: str) -> None:
        self._stderr: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in finish()
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.unit.storage.history_child",
                mode,
                str(history_dir),
                *args,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
            cwd=REPO_ROOT,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.strip())
        self._queue.put(None)

    def next_line(self) -> str:
        """The next reported line (fails if the child dies or goes silent)."""
        try:
            line = self._queue.get(timeout=LINE_DEADLINE_SECONDS)
        except queue.Empty:
            raise AssertionError(f"child silent for {LINE_DEADLINE_SECONDS} s") from None
        if line is None:
            self.process.wait()
            raise AssertionError(f"child exited {self.process.returncode}: {self.stderr()}")
        self.lines.append(line)
        return line

    def wait_for(self, wanted: str) -> None:
        """Read lines until ``wanted`` arrives."""
        while self.next_line() != wanted:
            pass

    def go(self) -> None:
        """Let a child that said ``ready`` start writing."""
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-2000:]

    def finish(self, *, kill: bool) -> int:
        """SIGKILL (or wait for) the child, collect every line it printed; its exit code."""
        if kill:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=LINE_DEADLINE_SECONDS)
        self._reader.join(timeout=LINE_DEADLINE_SECONDS)
        while True:
            line = self._queue.get_nowait() if not self._queue.empty() else None
            if line is None:
                break
            self.lines.append(line)
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
        self._stderr.close()
        return self.process.returncode


@dataclass
class Expectations:
    """What the writers acknowledged, from their progress lines."""

    messages: dict[str, str] = field(default_factory=dict)
    """message id -> session id, for every acknowledged, undeleted message."""
    lengths: dict[str, int] = field(default_factory=dict)
    """message id -> the longest content length acknowledged (checkpoints)."""
    acknowledged: set[str] = field(default_factory=set)

    def take(self, lines: list[str]) -> None:
        for line in lines:
            kind, _, rest = line.partition(" ")
            if kind == "saved":
                session_id, message_id = rest.split()
                self.messages[message_id] = session_id
                self.acknowledged.add(message_id)
            elif kind == "grew":
                session_id, message_id, length = rest.split()
                self.messages[message_id] = session_id
                self.lengths[message_id] = max(self.lengths.get(message_id, 0), int(length))
                self.acknowledged.add(message_id)
            elif kind == "deleting-message":
                self.messages.pop(rest, None)
                self.lengths.pop(rest, None)
            elif kind == "deleting-session":
                for message_id in [m for m, s in self.messages.items() if s == rest]:
                    del self.messages[message_id]
                    self.lengths.pop(message_id, None)


def unreadable_files(history_dir: Path) -> list[str]:
    """Names of history files (and the lock file) that do not parse as JSON now."""
    bad: list[str] = []
    paths = [p for p in history_dir.rglob("*.json") if not is_temp_name(p.name)]
    for path in [*paths, lock_path(history_dir)]:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue  # deleted by a writer since the listing
        try:
            json.loads(raw)
        except ValueError:
            bad.append(path.name)
    return bad


@dataclass
class SoakResult:
    kills: int
    acknowledged: int
    lost: list[str]
    unreadable: list[str]
    notices: list[str]

    def summary(self) -> str:
        return (
            f"kills: {self.kills}, messages acknowledged: {self.acknowledged}, "
            f"lost: {len(self.lost)}, unreadable files: {len(self.unreadable)}"
        )


def run_soak(history_dir: Path, kills: int, *, writers: int = 3, seed: int = 0) -> SoakResult:
    """Kill writers ``kills`` times in all; then check the history. See the module doc."""
    rng = random.Random(seed)
    with TinyDBRepository(history_dir) as repository:
        shared = repository.create_session("assistant", title="shared").id
    expected = Expectations()
    unreadable: list[str] = []
    started = 0

    def start() -> Child:
        nonlocal started
        started += 1
        child = Child("soak", history_dir, str(seed * 100_000 + started), shared, f"w{started}")
        child.wait_for("ready")
        child.go()
        return child

    running = [start() for _ in range(min(writers, kills))]
    done = 0
    try:
        while running:
            victim = rng.choice(running)
            for _ in range(rng.randint(1, 25)):
                victim.next_line()
            code = victim.finish(kill=True)
            running.remove(victim)
            assert code == -signal.SIGKILL, f"writer exited {code}: {victim.stderr()}"
            expected.take(victim.lines)
            done += 1
            unreadable.extend(unreadable_files(history_dir))  # while the others write
            if done + len(running) < kills:
                running.append(start())
    finally:
        for child in running:  # only after a failure
            child.finish(kill=True)
    return _check(history_dir, expected, shared, done, unreadable)


def _check(
    history_dir: Path, expected: Expectations, shared: str, kills: int, unreadable: list[str]
) -> SoakResult:
    unreadable = unreadable + unreadable_files(history_dir)
    lost: list[str] = []
    with TinyDBRepository(history_dir) as repository:
        notices = list(repository.notices)
        stored: dict[str, dict[str, int]] = {}
        for session in repository.list_sessions():
            messages = repository.messages(session.id)
            stored[session.id] = {m.id: len(m.content) for m in messages}
            if session.message_count != len(messages):
                lost.append(f"stale count in {session.id}")
            if session.id == shared:
                last: dict[str, int] = {}
                for message in messages:
                    tag, number = message.content.split()
                    if int(number) <= last.get(tag, -1):
                        lost.append(f"{tag} out of order at {number}")
                    last[tag] = int(number)
    for message_id, session_id in expected.messages.items():
        length = stored.get(session_id, {}).get(message_id)
        if length is None:
            lost.append(message_id)
        elif length < expected.lengths.get(message_id, 0):
            lost.append(f"{message_id} shorter than acknowledged")
    return SoakResult(kills, len(expected.acknowledged), lost, unreadable, notices)
