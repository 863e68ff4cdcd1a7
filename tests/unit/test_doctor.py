"""``chat-tui doctor`` against the local fake servers, real Milvus Lite and real data dirs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chat_tui.cli import app
from chat_tui.services import doctor
from chat_tui.services.doctor import check_data_dir, check_embedder, check_provider
from chat_tui.storage.tinydb_repo import TinyDBRepository
from tests.conftest import SECRET_KEY, make_settings
from tests.support.fake_jina import FakeJina
from tests.support.fake_openai import FakeOpenAI

JINA_KEY = "jina-test-KEY-0123456789"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def servers(
    fake_openai: FakeOpenAI,
    fake_jina: FakeJina,
    milvus_data_dir: Path,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """The environment a working setup has: model server, embedder, Milvus, a history."""
    fake_openai.api_key = SECRET_KEY
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    monkeypatch.setenv("JINA_BASE_URL", fake_jina.url)
    monkeypatch.setenv("JINA_API_KEY", JINA_KEY)
    monkeypatch.setenv("CHAT_TUI_DATA_DIR", str(milvus_data_dir))
    config = isolated_home / "xdg-config" / "chat-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[providers.openai]\nmodel = "fake-model"\n', encoding="utf-8")
    yield milvus_data_dir


def lines_of(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        mark, name, detail = line[:5].strip(), line[6:15].strip(), line[16:]
        found[name] = f"{mark} {detail}"
    return found


def assert_no_key(output: str) -> None:
    for secret in (SECRET_KEY, JINA_KEY):
        assert secret not in output and secret[-4:] not in output


def test_a_working_setup_passes_every_check(runner: CliRunner, servers: Path) -> None:
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    checks = lines_of(result.stdout)
    assert list(checks) == ["config", "provider", "embedder", "data dir", "milvus", "log file"]
    assert all(line.startswith("ok ") for line in checks.values()), result.stdout
    assert "key present" in checks["provider"] and "the model listed" in checks["provider"]
    assert "probe embedding: 1024 dimensions" in checks["embedder"]
    assert "Milvus Lite 2." in checks["milvus"] and "BM25 available" in checks["milvus"]
    assert str(servers) in checks["data dir"] and "GiB free" in checks["data dir"]
    assert str(servers / "chat-tui.log") in checks["log file"]
    assert_no_key(result.output)
    assert result.stderr == ""


def test_wrong_keys_fail_without_being_printed(
    runner: CliRunner, servers: Path, fake_openai: FakeOpenAI, fake_jina: FakeJina
) -> None:
    fake_openai.api_key = "sk-the-right-one-0000"
    fake_jina.api_key = "jina-the-right-one-0000"
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    checks = lines_of(result.stdout)
    assert checks["provider"].startswith("FAIL") and "key present" in checks["provider"]
    assert "API key" in checks["provider"] or "401" in checks["provider"], checks["provider"]
    assert checks["embedder"].startswith("FAIL") and "probe:" in checks["embedder"]
    assert checks["milvus"].startswith("ok")  # the others are still checked
    assert_no_key(result.output)


def test_a_missing_key_is_named_and_nothing_is_sent(
    isolated_home: Path, fake_openai: FakeOpenAI
) -> None:
    settings = make_settings("https://api.example.com/v1", api_key=None, home=isolated_home)
    check = _run(check_provider(settings))
    assert check.status == "fail" and "key missing" in check.detail
    assert "OPENAI_API_KEY" in check.detail
    local = make_settings(fake_openai.url, api_key=None, home=isolated_home)
    found = _run(check_provider(local))
    assert found.status == "ok" and "no key needed (this machine)" in found.detail
    assert fake_openai.model_list_requests == 1


def test_a_model_the_server_does_not_list_is_a_note(
    isolated_home: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.models = ["other-model"]
    check = _run(check_provider(make_settings(fake_openai.url, home=isolated_home)))
    assert check.status == "note" and "'fake-model' is not among them" in check.detail


def test_no_embedding_key_is_a_note_not_a_failure(isolated_home: Path) -> None:
    settings = make_settings("http://127.0.0.1:9/v1", home=isolated_home)
    check = _run(check_embedder(settings))
    assert check.status == "note" and "key missing" in check.detail and "BM25" in check.detail


def test_a_bad_config_fails_once_and_the_rest_is_not_checked(
    runner: CliRunner, isolated_home: Path
) -> None:
    config = isolated_home / "xdg-config" / "chat-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[retrieval]\ntop_kk = 3\n", encoding="utf-8")
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    checks = lines_of(result.stdout)
    assert (
        checks["config"].startswith("FAIL") and "did you mean retrieval.top_k" in checks["config"]
    )
    assert checks["provider"] == "FAIL not checked: the config must load first"
    assert checks["log file"].startswith("ok")


def test_an_unknown_keymap_id_is_a_note(runner: CliRunner, servers: Path) -> None:
    config = Path(doctor.locations.config_file())
    config.write_text(
        config.read_text(encoding="utf-8") + '[keymap]\n"session.nwe" = "ctrl+t"\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    line = lines_of(result.stdout)["config"]
    assert line.startswith("note") and "unknown binding id(s) in [keymap]: session.nwe" in line


def test_a_broken_role_file_is_a_config_problem(runner: CliRunner, isolated_home: Path) -> None:
    roles = isolated_home / "xdg-config" / "chat-tui" / "roles"
    roles.mkdir(parents=True)
    (roles / "bad\x1b[2J.toml").write_text("name = [", encoding="utf-8")
    config, _ = doctor.check_config()
    assert config.status == "fail" and "role file" in config.detail
    assert "\x1b" not in config.detail


def test_the_data_dir_counts_sessions_and_files_moved_aside(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings("http://127.0.0.1:9/v1", home=isolated_home)
    first = check_data_dir(settings)
    assert first.status == "ok" and "not created yet" in first.detail
    with TinyDBRepository(settings.history_dir) as repo:
        for n in range(3):
            repo.create_session("assistant", title=f"chat {n}")
    broken = settings.history_dir / "sessions" / "bad.json"
    broken.write_text("{not json", encoding="utf-8")
    TinyDBRepository(settings.history_dir).close()  # opening moves the damaged file aside
    check = check_data_dir(settings)
    assert check.status == "note", check.detail
    assert "3 sessions" in check.detail and "1 damaged file moved aside" in check.detail
    monkeypatch.setattr(doctor, "LOW_DISK_BYTES", 1 << 62)
    low = check_data_dir(settings)
    assert low.status == "fail" and "MiB free" in low.detail
    assert json.loads((settings.history_dir / "index.json").read_text())  # untouched, valid


def test_an_unreachable_milvus_fails_in_one_line(
    runner: CliRunner, servers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_TUI_MILVUS_URI", "http://user:hunter22@127.0.0.1:1")
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    milvus = lines_of(result.stdout)["milvus"]
    assert milvus.startswith("FAIL") and "127.0.0.1:1" in milvus and "hunter22" not in milvus
    assert "hunter22" not in result.output


def _run(coroutine):  # type: ignore[no-untyped-def]
    import asyncio

    return asyncio.run(coroutine)
