"""Hostile file names and headings through the real CLI: ingest, kb search, remove, prune.

Each name once broke a Milvus expression (a quote, a backslash, a newline, expression
syntax) or could act on the terminal (escape sequences). Every one must ingest, be found,
and be removed or pruned exactly by itself, and no control character may reach the output.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chat_tui.cli import app
from chat_tui.retrieval.milvus_server import stop_local_server

#: name -> a word only that file contains.
HOSTILE_NAMES = {
    "Bob's notes.md": "aardvarkone",
    "back\\slash.md": "aardvarktwo",
    "new\nline.md": "aardvarkthree",
    "x'] or key not in ['.md": "aardvarkfour",
    '" or 1==1 or ".md': "aardvarkfive",
    "esc\x1b]0;PWN\x07\x1b[2J.md": "aardvarksix",
    "[bold red]markup[x].md": "aardvarkseven",
    "tab\there\x7f.md": "aardvarkeight",
}
HOSTILE_HEADING = "# T \x1b]0;PWN\x07\x1b[2J and \x9b31m more"


@pytest.fixture
def runner(isolated_home: Path) -> Iterator[CliRunner]:
    yield CliRunner()
    stop_local_server(isolated_home / "xdg-data" / "chat-tui" / "knowledge")


def no_controls(text: str) -> None:
    bad = [ch for ch in text if (ord(ch) < 32 and ch not in "\n") or 0x7F <= ord(ch) < 0xA0]
    assert not bad, f"control characters reached the output: {bad!r}"


def test_hostile_names_ingest_search_remove_and_prune_exactly_themselves(
    runner: CliRunner, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, word in HOSTILE_NAMES.items():
        (docs / name).write_text(f"{HOSTILE_HEADING}\n\nThe {word} lives here.\n", "utf-8")
    (docs / "plain.md").write_text("# Plain\n\nThe aardvarkplain lives here.\n", "utf-8")

    ingested = runner.invoke(app, ["ingest", str(docs)])
    assert ingested.exit_code == 0, ingested.output
    no_controls(ingested.output)

    for name, word in HOSTILE_NAMES.items():
        found = runner.invoke(app, ["kb", "search", word])
        assert found.exit_code == 0, found.output
        no_controls(found.output)
        assert word in found.output, (name, found.output)
        assert "\\x1b]0;PWN\\x07" in found.output  # the heading, made visible, not acted on
    listed = runner.invoke(app, ["kb", "stats"])
    assert listed.exit_code == 0 and f"files: {len(HOSTILE_NAMES) + 1}" in listed.output

    # kb remove on each name removes that file only.
    remaining = len(HOSTILE_NAMES) + 1
    for name in ("x'] or key not in ['.md", '" or 1==1 or ".md', "Bob's notes.md"):
        removed = runner.invoke(app, ["kb", "remove", str(docs / name)])
        assert removed.exit_code == 0, removed.output
        no_controls(removed.output)
        remaining -= 1
        stats = runner.invoke(app, ["kb", "stats"]).output
        assert f"files: {remaining}" in stats, (name, stats)
        gone = runner.invoke(app, ["kb", "search", HOSTILE_NAMES[name]]).output
        assert HOSTILE_NAMES[name] not in gone and "no matching passages" in gone, gone
    assert "aardvarkplain" in runner.invoke(app, ["kb", "search", "aardvarkplain"]).output

    # --prune on the others: delete two from disk, exactly those two go.
    for name in ("back\\slash.md", "new\nline.md"):
        (docs / name).unlink()
    pruned = runner.invoke(app, ["ingest", "--prune", str(docs)])
    assert pruned.exit_code == 0, pruned.output
    no_controls(pruned.output)
    stats = runner.invoke(app, ["kb", "stats"]).output
    # The ingest put the three removed files (still on disk) back; the two deleted are gone.
    assert f"files: {len(HOSTILE_NAMES) + 1 - 2}" in stats, stats
    assert "aardvarktwo" not in runner.invoke(app, ["kb", "search", "aardvarktwo"]).output
    for name in ("esc\x1b]0;PWN\x07\x1b[2J.md", "[bold red]markup[x].md", "tab\there\x7f.md"):
        found = runner.invoke(app, ["kb", "search", HOSTILE_NAMES[name]]).output
        assert HOSTILE_NAMES[name] in found, (name, found)
