"""Where files live: env overrides, XDG dirs, and ``--data-dir`` moving everything inside."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from chat_tui import locations
from chat_tui.config import load_settings
from chat_tui.logs import setup_logging


def test_xdg_dirs_are_the_default_roots(isolated_home: Path) -> None:
    assert locations.config_file() == isolated_home / "xdg-config" / "chat-tui" / "config.toml"
    assert locations.roles_dir() == isolated_home / "xdg-config" / "chat-tui" / "roles"
    data = isolated_home / "xdg-data" / "chat-tui"
    assert (locations.history_dir(), locations.knowledge_dir()) == (
        data / "history",
        data / "knowledge",
    )
    assert (locations.state_file(), locations.log_file()) == (
        data / "state.json",
        data / "chat-tui.log",
    )


def test_env_overrides_move_each_root(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_TUI_DATA_DIR", str(isolated_home / "d"))
    monkeypatch.setenv("CHAT_TUI_CONFIG_DIR", str(isolated_home / "c"))
    settings = load_settings(env={})
    assert settings.config_file == isolated_home / "c" / "config.toml"
    assert settings.roles_dir == isolated_home / "c" / "roles"
    assert settings.history_dir == isolated_home / "d" / "history"
    assert settings.log_file == locations.log_file() == isolated_home / "d" / "chat-tui.log"


def test_data_dir_flag_moves_history_knowledge_state_and_log(isolated_home: Path) -> None:
    moved = isolated_home / "elsewhere"
    settings = load_settings(env={}, data_dir=moved)
    assert [
        settings.history_dir,
        settings.knowledge_dir,
        settings.state_file,
        settings.log_file,
    ] == [moved / "history", moved / "knowledge", moved / "state.json", moved / "chat-tui.log"]
    logger = logging.getLogger("chat_tui")
    kept = logger.handlers[:], logger.level, logger.propagate
    setup_logging(settings)
    try:
        logging.getLogger("chat_tui.test").info("written where locations says")
    finally:
        for handler in logger.handlers:
            handler.close()
        logger.handlers[:], logger.level, logger.propagate = kept
    assert "written where locations says" in settings.log_file.read_text(encoding="utf-8")
    assert not locations.log_file().exists()
