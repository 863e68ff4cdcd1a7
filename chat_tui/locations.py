"""Where chat-tui keeps its files: the one place that knows, as functions so nothing is
created or read at import.

Two roots: the config dir (``config.toml``, user roles) and the data dir (history,
knowledge bases, app state, the log). ``CHAT_TUI_CONFIG_DIR`` / ``CHAT_TUI_DATA_DIR``
move a root; otherwise ``platformdirs`` picks it, honouring ``XDG_CONFIG_HOME`` /
``XDG_DATA_HOME`` on Linux, which is how tests and users move everything elsewhere.

The helpers below a root take that root as an argument: settings carry a data dir
that ``--data-dir`` may have moved, and the paths inside it must follow. Without the
argument they use the default root.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "chat-tui"

CONFIG_FILE = "config.toml"
ROLES_DIR = "roles"
HISTORY_DIR = "history"
KNOWLEDGE_DIR = "knowledge"
STATE_FILE = "state.json"
ATTACHMENTS_DIR = "attachments"
LOG_FILE = "chat-tui.log"


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


def config_file(config: Path | None = None) -> Path:
    """The TOML configuration file in ``config`` (default: :func:`config_dir`)."""
    return (config or config_dir()) / CONFIG_FILE


def roles_dir(config: Path | None = None) -> Path:
    """Where users add their own roles, one TOML file each."""
    return (config or config_dir()) / ROLES_DIR


def history_dir(data: Path | None = None) -> Path:
    """Where the TinyDB history lives (one file per session plus an index)."""
    return (data or data_dir()) / HISTORY_DIR


def knowledge_dir(data: Path | None = None) -> Path:
    """Where the Milvus Lite database and ingest manifests live."""
    return (data or data_dir()) / KNOWLEDGE_DIR


def attachments_dir(data: Path | None = None) -> Path:
    """Where attached images are stored, once each, by content hash."""
    return (data or data_dir()) / ATTACHMENTS_DIR


def state_file(data: Path | None = None) -> Path:
    """What the user picked in the app (theme, provider, models, prompt history)."""
    return (data or data_dir()) / STATE_FILE


def log_file(data: Path | None = None) -> Path:
    """The log file (never holds secrets)."""
    return (data or data_dir()) / LOG_FILE
