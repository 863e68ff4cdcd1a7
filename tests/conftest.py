"""Shared fixtures: an isolated home for every test, settings pointed at local servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chat_tui.config import Settings, load_settings

pytest_plugins = ["tests.support.fixtures", "tests.support.jina_fixtures"]

SECRET_KEY = "sk-test-SECRET-0123456789"

_ENV_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "CHAT_TUI_MODEL",
    "CHAT_TUI_PROVIDER",
    "JINA_API_KEY",
    "JINA_BASE_URL",
    "DEEPSEEK_API_KEY",
    "DASHSCOPE_API_KEY",
    "CHAT_TUI_DATA_DIR",
    "CHAT_TUI_CONFIG_DIR",
    "CHAT_TUI_MILVUS_URI",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own XDG dirs and no keys from the developer's shell."""
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    yield tmp_path


def make_settings(
    base_url: str, *, api_key: str | None = SECRET_KEY, config: str = "", home: Path, **env: str
) -> Settings:
    """Settings for a test: the openai profile pointed at ``base_url``."""
    config_file = home / "xdg-config" / "chat-tui" / "config.toml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(
        'provider = "openai"\n[providers.openai]\nmodel = "fake-model"\ncontext_window = 4096\n'
        "timeout = 10\nmax_retries = 1\n" + config,
        encoding="utf-8",
    )
    environment = {"OPENAI_BASE_URL": base_url, **env}
    if api_key:
        environment["OPENAI_API_KEY"] = api_key
    return load_settings(
        config_file=config_file, env=environment, data_dir=home / "xdg-data" / "chat-tui"
    )
