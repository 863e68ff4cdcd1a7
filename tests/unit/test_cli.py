"""The typer CLI end to end: ingest exit codes, kb commands, roles, sessions, locate, ask."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chat_tui.cli import app
from chat_tui.retrieval.milvus_server import stop_local_server
from tests.support.corpus import make_corpus
from tests.support.fake_openai import Reply


@pytest.fixture
def runner(isolated_home: Path) -> Iterator[CliRunner]:
    yield CliRunner()
    stop_local_server(isolated_home / "xdg-data" / "chat-tui" / "knowledge")


def test_locate_prints_xdg_paths(runner: CliRunner, isolated_home: Path) -> None:
    assert runner.invoke(app, ["locate", "config"]).output.strip() == str(
        isolated_home / "xdg-config" / "chat-tui" / "config.toml"
    )
    assert runner.invoke(app, ["locate", "data"]).output.strip() == str(
        isolated_home / "xdg-data" / "chat-tui"
    )
    bad = runner.invoke(app, ["locate", "nowhere"])
    assert bad.exit_code == 2 and "locate takes" in bad.output


def test_bad_config_is_one_line_naming_key_and_file(runner: CliRunner, isolated_home: Path) -> None:
    cfg = isolated_home / "xdg-config" / "chat-tui" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("[retrieval]\ntop_k = 'many'\n", encoding="utf-8")
    result = runner.invoke(app, ["roles", "list"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "retrieval.top_k" in lines[0] and str(cfg) in lines[0]


def test_roles_add_and_list(runner: CliRunner) -> None:
    added = runner.invoke(
        app, ["roles", "add", "reviewer", "--prompt", "Review code bluntly.", "-d", "Code review"]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["roles", "list"]).output
    assert (
        "assistant" in listed
        and "teacher" in listed
        and "programmer" in listed
        and "reviewer" in listed
    )


def test_ingest_search_remove_prune_and_drop(runner: CliRunner, tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    config = tmp_path / "xdg-config" / "chat-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[ingest]\nmax_file_mb = 0.05\n", encoding="utf-8")

    first = runner.invoke(app, ["ingest", str(tmp_path / "corpus")])
    assert first.exit_code == 0, first.output  # binary, empty, huge: skipped by policy
    for reason in ("binary", "empty", "too large"):
        assert reason in first.output
    again = runner.invoke(app, ["ingest", str(tmp_path / "corpus")])
    assert again.exit_code == 0 and "unchanged" in again.output.lower()

    assert runner.invoke(app, ["kb", "list"]).output.split() == ["default"]
    stats = runner.invoke(app, ["kb", "stats"]).output
    assert "chunks:" in stats and "files:" in stats

    markdown = next(p for p in corpus.values() if p.suffix == ".md")
    found = runner.invoke(app, ["kb", "search", "capybara festival"])
    assert found.exit_code == 0 and markdown.name in found.output, found.output

    removed = runner.invoke(app, ["kb", "remove", str(markdown)])
    assert removed.exit_code == 0 and "removed" in removed.output
    assert markdown.name not in runner.invoke(app, ["kb", "search", "capybara festival"]).output

    missing = runner.invoke(app, ["ingest", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file" in missing.output

    dropped = runner.invoke(app, ["kb", "drop", "default", "--yes"])
    assert dropped.exit_code == 0
    assert runner.invoke(app, ["kb", "list"]).output.split() == []


def test_ingest_with_a_bad_jina_key_exits_2_and_loses_nothing(
    runner: CliRunner, tmp_path: Path, fake_jina, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nAlpha facts about llamas.\n", encoding="utf-8")
    monkeypatch.setenv("JINA_BASE_URL", fake_jina.url)
    monkeypatch.setenv("JINA_API_KEY", "jina-bad-key-000000")
    result = runner.invoke(app, ["ingest", str(docs)])
    assert result.exit_code == 2, result.output
    assert "jina-bad-key-000000" not in result.output
    assert "JINA_API_KEY" in result.output


def test_ask_streams_the_answer_and_stores_the_session(
    runner: CliRunner, fake_openai, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-test-000000")
    fake_openai.script(Reply(content="Forty-two."))
    result = runner.invoke(
        app, ["ask", "--no-kb", "--role", "teacher", "What", "is", "the", "answer?"]
    )
    assert result.exit_code == 0, result.output
    assert "Forty-two." in result.output
    assert fake_openai.requests[0]["messages"][0]["content"].startswith("You are a patient teacher")
    listed = runner.invoke(app, ["sessions", "list"]).output
    assert "teacher" in listed and "What is the answer?" in listed
    session_id = listed.split()[0]
    shown = runner.invoke(app, ["sessions", "show", session_id]).output
    assert "Forty-two." in shown
    fake_openai.script(Reply(status=401))
    failed = runner.invoke(app, ["ask", "--no-kb", "again"])
    assert failed.exit_code == 1 and "401" in failed.output and "sk-cli-test" not in failed.output


def _stats(runner: CliRunner) -> dict[str, str]:
    output = runner.invoke(app, ["kb", "stats"]).output
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


def test_prune_keeps_filtered_files_and_prunes_a_given_path_that_is_gone(
    runner: CliRunner, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    for name in ("a.md", "b.txt", "gone.md", "sub/x.md", "sub/y.md"):
        (docs / name).write_text(f"# {name}\n\nAbout {name}.\n", encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(docs)]).exit_code == 0
    assert _stats(runner)["files"] == "5"

    filtered = runner.invoke(app, ["ingest", str(docs), "--include", "*.md", "--prune"])
    assert filtered.exit_code == 0, filtered.output
    assert _stats(runner)["files"] == "5"  # b.txt is still on disk: kept

    (docs / "gone.md").unlink()
    gone = runner.invoke(app, ["ingest", str(docs / "gone.md"), "--prune"])
    assert gone.exit_code == 0, gone.output
    assert _stats(runner)["files"] == "4"
    never = runner.invoke(app, ["ingest", str(docs / "never.md"), "--prune"])
    assert never.exit_code == 1 and "no such file" in never.output
    assert _stats(runner)["files"] == "4"


def test_kb_remove_takes_a_folder_or_a_file(runner: CliRunner, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    for name in ("a.md", "b.txt", "subway.md", "sub/x.md", "sub/y.md"):
        (docs / name).write_text(f"# {name}\n\nAbout {name}.\n", encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(docs)]).exit_code == 0

    folder = runner.invoke(app, ["kb", "remove", str(docs / "sub")])
    assert folder.exit_code == 0, folder.output
    assert "removed 2 files" in folder.output
    assert _stats(runner)["files"] == "3"  # subway.md is not under sub/
    again = runner.invoke(app, ["kb", "remove", str(docs / "sub")])
    assert again.exit_code == 1 and "not in the knowledge base" in again.output
    exact = runner.invoke(app, ["kb", "remove", str(docs / "b.txt")])
    assert exact.exit_code == 0 and "removed 1 chunks of" in exact.output
    assert _stats(runner)["files"] == "2"


def test_rebuild_with_a_bad_jina_key_exits_2_and_keeps_the_knowledge_base(
    runner: CliRunner, tmp_path: Path, fake_jina, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nAlpha facts about llamas.\n", encoding="utf-8")
    monkeypatch.setenv("JINA_BASE_URL", fake_jina.url)
    monkeypatch.setenv("JINA_API_KEY", fake_jina.api_key)
    assert runner.invoke(app, ["ingest", str(docs)]).exit_code == 0
    monkeypatch.setenv("JINA_API_KEY", "jina-bad-key-000000")
    result = runner.invoke(app, ["ingest", str(docs), "--rebuild"])
    assert result.exit_code == 2, result.output
    assert "JINA_API_KEY" in result.output
    assert _stats(runner)["files"] == "1"
    assert "llamas" in runner.invoke(app, ["kb", "search", "llamas"]).output


def test_ask_after_a_context_length_refusal_names_the_retry_with_fewer_turns(
    runner: CliRunner, fake_openai, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-test-000000")
    fake_openai.script(Reply(content="one"), Reply(content="two"))
    assert runner.invoke(app, ["ask", "--no-kb", "first"]).exit_code == 0
    session_id = runner.invoke(app, ["sessions", "list"]).output.split()[0]
    assert runner.invoke(app, ["ask", "--no-kb", "-s", session_id, "second"]).exit_code == 0
    fake_openai.script(Reply(status=400, error_code="context_length_exceeded"))
    refused = runner.invoke(app, ["ask", "--no-kb", "-s", session_id, "long"])
    assert refused.exit_code == 1
    assert f"--session {session_id} --earlier 2" in " ".join(refused.output.split())
    fake_openai.script(Reply(content="fits"))
    retried = runner.invoke(app, ["ask", "--no-kb", "-s", session_id, "--earlier", "2", "long"])
    assert retried.exit_code == 0 and "fits" in retried.output
    contents = [m["content"] for m in fake_openai.requests[-1]["messages"][1:]]
    assert contents == ["second", "two", "long"]


def test_kb_list_says_when_an_older_knowledge_base_lies_unread(tmp_path: Path) -> None:
    import subprocess
    import sys

    data = tmp_path / "data"
    legacy = data / "knowledge" / "milvus"
    legacy.mkdir(parents=True)
    (legacy / "old.db").write_bytes(b"x")
    env = {
        **os.environ,
        "CHAT_TUI_DATA_DIR": str(data),
        "CHAT_TUI_CONFIG_DIR": str(tmp_path / "cfg"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "chat_tui", "kb", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0
    assert "older chat-tui" in done.stderr and str(legacy) in done.stderr
    assert (legacy / "old.db").exists()  # nothing of the user's is deleted


def _open_files_under(folder: Path) -> list[str]:
    """Paths under ``folder`` this process holds open (Linux: /proc/self/fd)."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed while listing (the listing's own descriptor)
        if target.startswith(str(folder)):
            held.append(target)
    return held


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_ask_with_an_unknown_session_releases_the_history(
    runner: CliRunner, fake_openai, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    import subprocess
    import sys

    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-test-000000")
    data_dir = isolated_home / "xdg-data" / "chat-tui"
    failed = runner.invoke(app, ["ask", "--no-kb", "-s", "no-such-session", "hi"])
    assert failed.exit_code == 2 and "no session with id no-such-session" in failed.output
    # The history lock and files were closed (the log file stays open: logging owns it).
    assert _open_files_under(data_dir / "history") == []
    # Another process takes the history at once (no waiting on a lock timeout).
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path\n"
            "from chat_tui.storage.tinydb_repo import TinyDBRepository\n"
            "with TinyDBRepository(Path(sys.argv[1]), lock_timeout=0) as repo:\n"
            "    print(repo.create_session('assistant').role)\n",
            str(data_dir / "history"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 0 and child.stdout.strip() == "assistant", child.stderr
