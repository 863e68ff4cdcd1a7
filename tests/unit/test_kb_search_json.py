"""``chat-tui kb search --json``: one parseable array of hits, raw strings, escapes kept inert."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chat_tui.cli import app
from chat_tui.retrieval.milvus_server import stop_local_server

HOSTILE = (
    "# Wombat \x1b]0;pwned\x07care \x1b[31mred\x1b[0m\n\n"
    "Wombats dig burrows \x1b[2J with \u202eevil\u202c text and \x9b31m a C1 CSI.\n"
)


@pytest.fixture
def runner(isolated_home: Path) -> Iterator[CliRunner]:
    yield CliRunner()
    stop_local_server(isolated_home / "xdg-data" / "chat-tui" / "knowledge")


def test_kb_search_json_is_one_array_of_raw_hits(runner: CliRunner, tmp_path: Path) -> None:
    docs = tmp_path / 'docs "q" \\ x'
    docs.mkdir()
    hostile = docs / "wombat\x1b[31m.md"
    hostile.write_text(HOSTILE, encoding="utf-8")
    (docs / "other.md").write_text("# Otters\n\nOtters hold hands while asleep.\n", "utf-8")
    assert runner.invoke(app, ["ingest", str(docs)]).exit_code == 0

    result = runner.invoke(app, ["kb", "search", "wombats burrows", "--json"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout
    assert "\u202e" not in result.stdout
    assert "\\u001b" in result.stdout  # ESC escaped by JSON, read back exactly
    hits = json.loads(result.stdout)
    assert isinstance(hits, list) and hits
    first = hits[0]
    assert set(first) == {
        "source",
        "location",
        "heading",
        "line_start",
        "line_end",
        "page",
        "anchor",
        "score",
        "text",
        "knowledge_base",
    }
    assert first["source"] == str(hostile.resolve())  # raw, not sanitized
    assert "\x1b[2J" in first["text"] and "\u202e" in first["text"]
    assert first["location"].endswith("wombat\x1b[31m.md")
    assert first["knowledge_base"] == "default"
    assert isinstance(first["score"], float) and first["line_start"] >= 1


def test_kb_search_json_with_no_hits_is_an_empty_array(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nAardvarks eat ants.\n", "utf-8")
    assert runner.invoke(app, ["ingest", str(tmp_path / "a.md")]).exit_code == 0
    result = runner.invoke(app, ["kb", "search", "zzqxj", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_kb_search_json_error_is_one_line_on_stderr(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "xdg-config" / "chat-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[milvus]\nuri = "http://127.0.0.1:9"\n', encoding="utf-8")
    result = runner.invoke(app, ["kb", "search", "anything", "--json"])
    assert result.exit_code != 0
    assert result.stdout.strip() == "" or not result.stdout.strip().startswith("[")
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


def test_the_typer_free_start_prints_what_typer_prints(runner: CliRunner, tmp_path: Path) -> None:
    # ``chat-tui kb search`` in plain spellings skips typer (chat_tui.launch): as a real
    # process it must print exactly what the typer command prints, text and JSON.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "wombat\x1b[31m.md").write_text(HOSTILE, encoding="utf-8")
    (docs / "other.md").write_text("# Otters\n\nOtters hold hands while asleep.\n", "utf-8")
    assert runner.invoke(app, ["ingest", str(docs)]).exit_code == 0
    for argv in (
        ["kb", "search", "wombats burrows"],
        ["kb", "search", "wombats burrows", "--json", "-k", "1"],
        ["kb", "search", "--top=3", "zzqxj"],
    ):
        by_typer = runner.invoke(app, argv)
        started = subprocess.run(
            [sys.executable, "-m", "chat_tui", *argv], capture_output=True, text=True, check=False
        )
        assert started.returncode == by_typer.exit_code == 0, started.stderr
        assert started.stdout == by_typer.stdout, argv
