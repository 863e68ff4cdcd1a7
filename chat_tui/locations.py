"""Where chat-tui keeps its files, as functions so nothing is created or read at import.

``platformdirs`` honours ``XDG_DATA_HOME`` / ``XDG_CONFIG_HOME`` on Linux, which is how
tests and users move everything elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "chat-tui"


def data_dir() -> Path:
    """The directory holding history and the knowledge base (not created here)."""
    override = os.environ.get("CHAT_TUI_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def config_dir() -> Path:
    """The directory holding ``config.toml`` and user roles (not created here)."""
    override = os.environ.get("CHAT_TUI_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def config_file() -> Path:
    """The TOML configuration file."""
    return config_dir() / "config.toml"


def roles_dir() -> Path:
    """Where users add their own roles, one TOML file each."""
    return config_dir() / "roles"


def history_dir() -> Path:
    """Where the TinyDB history lives (one file per session plus an index)."""
    return data_dir() / "history"


def knowledge_dir() -> Path:
    """Where the Milvus Lite database and ingest manifests live."""
    return data_dir() / "knowledge"


def log_file() -> Path:
    """The log file (never holds secrets)."""
    return data_dir() / "chat-tui.log"
