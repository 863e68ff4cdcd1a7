"""The root command group turns whatever a command raises into one line on stderr."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from chat_tui.cli import OneLineErrors
from chat_tui.errors import StorageError


def _app(error: BaseException) -> typer.Typer:
    app = typer.Typer(cls=OneLineErrors)

    @app.command()
    def boom() -> None:
        raise error

    @app.command()
    def fine(count: int) -> None:
        typer.echo(f"count {count}")

    return app


@pytest.mark.parametrize(
    ("error", "needle"),
    [
        (StorageError("history file x.json is damaged"), "history file x.json is damaged"),
        (
            OSError(errno.EROFS, "Read-only file system", "/data/history/index.json"),
            "cannot write to /data/history/index.json (read-only file system)",
        ),
        (
            OSError(errno.ENOSPC, "No space left on device", "/data/x"),
            "(no space left on device)",
        ),
        (ValueError("a library\nfailed\x1b]0;t\x07"), "unexpected error (ValueError: a library"),
    ],
    ids=["ours", "read-only", "full", "bug"],
)
def test_a_failing_command_is_one_line(
    error: BaseException, needle: str, isolated_home: Path
) -> None:
    result = CliRunner().invoke(_app(error), ["boom"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chat-tui: "), result.output
    assert needle in lines[0] and "Traceback" not in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output


def test_usage_errors_and_exits_are_left_to_typer() -> None:
    app = _app(RuntimeError("unused"))
    bad = CliRunner().invoke(app, ["fine", "not-a-number"])
    assert bad.exit_code == 2 and "chat-tui:" not in bad.output
    assert CliRunner().invoke(app, ["fine", "3"]).output == "count 3\n"
