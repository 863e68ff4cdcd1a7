"""SIGKILL a writing process at many moments: every file stays loadable, nothing saved is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from chat_tui.storage.atomic import is_temp_name
from chat_tui.storage.tinydb_repo import TinyDBRepository

from .conftest import load_every_json

WRITER = Path(__file__).with_name("crash_writer.py")
KILLS = 80  # kills land at varied moments; enough rounds that >100 saves always happen


def _run_until_killed(history_dir: Path, seed: int, lines_before_kill: int) -> list[str]:
    """Start the writer, read its progress, SIGKILL it mid-flight; returns what it reported."""
    repo_root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    child = subprocess.Popen(
        [sys.executable, str(WRITER), str(history_dir), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    reported: list[str] = []
    try:
        first = child.stdout.readline().strip()
        if first != "ready":
            child.kill()
            raise AssertionError(f"writer failed to start: {first!r} {child.stderr.read()}")  # type: ignore[union-attr]
        while len(reported) < lines_before_kill:
            line = child.stdout.readline()
            if not line:
                raise AssertionError(f"writer died: {child.stderr.read()}")  # type: ignore[union-attr]
            reported.append(line.strip())
        child.send_signal(signal.SIGKILL)
        # Lines the child printed before the kill landed still count. Read them through
        # the same buffered stream (communicate() would skip what it already buffered).
        rest = child.stdout.read()
        child.wait()
        reported.extend(line.strip() for line in rest.splitlines() if line.strip())
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    return reported


def _data_files_parse(history_dir: Path) -> None:
    for path in history_dir.rglob("*"):
        if path.is_file() and not is_temp_name(path.name):
            with path.open(encoding="utf-8") as handle:
                json.load(handle)


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_a_loadable_history(tmp_path: Path) -> None:
    history_dir = tmp_path / "history"
    expected: dict[str, str] = {}  # message id -> session id, for every reported save
    for round_number in range(KILLS):
        lines_before_kill = 1 + (round_number * 7) % 40
        for line in _run_until_killed(history_dir, round_number, lines_before_kill):
            kind, _, rest = line.partition(" ")
            if kind == "saved":
                session_id, message_id = rest.split()
                expected[message_id] = session_id
            elif kind == "deleting-message":
                expected.pop(rest, None)
            elif kind == "deleting-session":
                for message_id in [m for m, s in expected.items() if s == rest]:
                    del expected[message_id]

        _data_files_parse(history_dir)  # right after the kill, before any repair
        repository = TinyDBRepository(history_dir)
        try:
            assert repository.notices == [], f"round {round_number}: {repository.notices}"
            load_every_json(history_dir)  # and now every file, temp files having been removed
            counts = {s.id: s.message_count for s in repository.list_sessions()}  # index only
            by_session: dict[str, set[str]] = {}
            for message_id, session_id in expected.items():
                by_session.setdefault(session_id, set()).add(message_id)
            for session_id, message_ids in by_session.items():
                session = repository.get_session(session_id)
                assert session is not None, f"round {round_number}: session {session_id} lost"
                stored = repository.messages(session_id)
                missing = message_ids - {m.id for m in stored}
                assert not missing, f"round {round_number}: lost {missing}"
                assert counts[session_id] == len(stored), f"round {round_number}: stale count"
        finally:
            repository.close()
    assert len(expected) > 100  # the rounds really wrote something
