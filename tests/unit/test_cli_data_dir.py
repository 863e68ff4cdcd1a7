"""A read-only or full data dir is one line in every CLI command, and notices are printed.

Root ignores permission bits, so "read-only" is a real read-only file system: a tmpfs
mounted for the test and remounted ``ro`` (and a tiny tmpfs filled up for "full"). The
tests skip where mounting is not allowed (not root, or no CAP_SYS_ADMIN).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chat_tui.cli import app
from chat_tui.storage.tinydb_repo import TinyDBRepository
from tests.support.fake_openai import FakeOpenAI


def _mount(target: Path, *options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(("size=512k", *options)), "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    """A private tmpfs under the test's temp dir (skips when mounting is not allowed)."""
    target = tmp_path / f"mnt-{uuid.uuid4().hex[:6]}"
    if not _mount(target):
        pytest.skip("needs root with mount rights for a real read-only / full file system")
    try:
        yield target
    finally:
        _umount(target)


@pytest.fixture
def env_for(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI, mounted: Path
) -> Iterator[Path]:
    data = mounted / "data"
    monkeypatch.setenv("CHAT_TUI_DATA_DIR", str(data))
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    repo = TinyDBRepository(data / "history")
    repo.create_session("assistant", title="kept session")
    repo.close()
    yield data


def _one_line_error(output: str, data: Path, reason: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    assert lines[0].startswith("chat-tui: ") and reason in lines[0], output
    assert str(data) in lines[0] and "CHAT_TUI_DATA_DIR" in lines[0]


COMMANDS = [
    ["ask", "--no-kb", "hello"],
    ["sessions", "delete", "anything", "--yes"],
    ["ingest", "{docs}"],
    ["kb", "remove", "{docs}"],
    ["kb", "drop", "default", "--yes"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_read_only_data_dir_is_one_line(
    env_for: Path, mounted: Path, tmp_path: Path, fake_openai: FakeOpenAI, command: list[str]
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nalpha\n", encoding="utf-8")
    subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)
    result = CliRunner().invoke(app, [part.format(docs=docs) for part in command])
    assert result.exit_code in (1, 2)
    _one_line_error(result.output, env_for, "read-only file system")
    assert fake_openai.requests == []  # nothing sent for a turn that could not be stored


@pytest.mark.parametrize("command", COMMANDS[:3], ids=lambda c: " ".join(c[:2]))
def test_full_data_dir_is_one_line(
    env_for: Path, mounted: Path, tmp_path: Path, fake_openai: FakeOpenAI, command: list[str]
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nalpha\n", encoding="utf-8")
    fd = os.open(mounted / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass  # the disk is full
    finally:
        os.close(fd)
    result = CliRunner().invoke(app, [part.format(docs=docs) for part in command])
    assert result.exit_code in (1, 2)
    _one_line_error(result.output, env_for, "no space left on device")
    assert fake_openai.requests == []


def test_reading_commands_still_work_on_a_read_only_data_dir(env_for: Path, mounted: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)
    runner = CliRunner()
    listed = runner.invoke(app, ["sessions", "list"])
    assert listed.exit_code == 0 and "kept session" in listed.output, listed.output
    roles = runner.invoke(app, ["roles", "list"])
    assert roles.exit_code == 0 and "assistant" in roles.output


def test_cli_prints_the_notices_from_opening_the_history(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = isolated_home / "xdg-data" / "chat-tui" / "history"
    repo = TinyDBRepository(history)
    repo.create_session("assistant", title="survivor")
    repo.close()
    (history / "index.json").unlink()  # opening rebuilds it from the session files
    result = CliRunner().invoke(app, ["sessions", "list"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("chat-tui: note: ")]
    assert len(notes) == 1 and "index" in notes[0].lower(), result.output
    assert "survivor" in result.output
