"""A read-only or full data dir: each write fails with one StorageError line, nothing is lost.

Both run a real child process in a private mount namespace (``unshare -rm``): a
read-only bind mount of the data dir, or a 256 KiB tmpfs filled to the last byte.
That works as root too, where ``chmod`` would not stop anything (root ignores
permission bits), and leaves no mount behind. Where user namespaces are not
allowed the tests are skipped with that reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chat_tui.domain.models import Message, MessageStatus
from chat_tui.storage.lock import lock_path
from chat_tui.storage.tinydb_repo import TinyDBRepository

from .kill_soak import REPO_ROOT

WRITES = {"append", "checkpoint", "create", "rename", "clear"}


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=60)
    return probe.returncode == 0


needs_namespaces = pytest.mark.skipif(
    sys.platform != "linux" or not _namespaces_work(),
    reason="needs Linux user+mount namespaces (unshare -rm) for a read-only or full mount",
)


def _run_in_namespace(script: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def _assert_one_line_errors(errors: dict[str, str], names: set[str], reason: str) -> None:
    assert set(errors) >= names
    for name in names:
        assert errors[name] != "stored", f"{name} claimed to store on an unwritable disk"
        assert "\n" not in errors[name]
        assert errors[name].startswith("Cannot ") and reason in errors[name], errors[name]


@needs_namespaces
def test_read_only_data_dir(history_dir: Path) -> None:
    with TinyDBRepository(history_dir) as repository:
        session = repository.create_session("assistant", title="kept")
        for turn in range(3):
            repository.append_message(
                Message(session_id=session.id, role="user", content=f"{turn}")
            )
    data_dir = history_dir.parent  # holds the history and its lock file
    before = _snapshot(data_dir)

    result = _run_in_namespace(
        'mount --bind "$2" "$2" && mount -o remount,bind,ro "$2" && '
        'exec "$1" -m tests.unit.storage.history_child unwritable "$3" "$4"',
        str(data_dir),
        str(history_dir),
        session.id,
    )
    _assert_one_line_errors(result["errors"], WRITES | {"delete"}, "read-only")
    assert result["after"] == result["before"]  # the caches stayed in step with the disk
    assert result["before"]["count"] == 3 and result["before"]["title"] == "kept"
    assert result["refresh"] == []  # reading still works
    assert _snapshot(data_dir) == before  # nothing touched
    assert lock_path(history_dir).exists()
    with TinyDBRepository(history_dir) as reopened:
        assert reopened.notices == []
        assert [m.content for m in reopened.messages(session.id)] == ["0", "1", "2"]


@needs_namespaces
def test_full_disk(tmp_path: Path) -> None:
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    result = _run_in_namespace(
        'mount -t tmpfs -o size=256k tmpfs "$2" && '
        'exec "$1" -m tests.unit.storage.history_child fulldisk "$2"',
        str(mount_point),
    )
    _assert_one_line_errors(result["errors"], WRITES, "no space left")
    assert result["after"] == result["before"]
    assert result["before"]["count"] == 6
    assert result["final"]["count"] == 7  # the disk freed: writing works again
    assert result["final"]["contents"][:6] == result["before"]["contents"]
    assert result["final"]["contents"][-1] == "after5"
    assert result["notices"] == []
    assert MessageStatus.INTERRUPTED.value == "interrupted"
