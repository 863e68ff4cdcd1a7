"""Settings: one validated, frozen object built from the TOML file, env vars and CLI flags.

The package has a module per concern: ``schema`` (reading a TOML table into a
dataclass's fields, one-line errors), ``providers`` (endpoint profiles, which need a
key, which are this machine), ``settings`` (every other setting and its default) and
``loading`` (file > env > flags into one ``Settings``). Everything a caller uses is
importable from ``chat_tui.config``.
"""

from __future__ import annotations

from chat_tui.config.loading import load_settings
from chat_tui.config.providers import (
    BUILTIN_PROVIDERS,
    DEFAULT_PROVIDER,
    BuiltinProvider,
    ProviderSettings,
    ip_address_of,
    is_this_machine,
    key_env_of,
    missing_key_message,
    require_key,
    url_host,
)
from chat_tui.config.settings import (
    DEFAULT_EXCLUDES,
    EmbeddingSettings,
    HistorySettings,
    IngestSettings,
    MilvusSettings,
    RetrievalSettings,
    Settings,
)

__all__ = [
    "BUILTIN_PROVIDERS",
    "DEFAULT_EXCLUDES",
    "DEFAULT_PROVIDER",
    "BuiltinProvider",
    "EmbeddingSettings",
    "HistorySettings",
    "IngestSettings",
    "MilvusSettings",
    "ProviderSettings",
    "RetrievalSettings",
    "Settings",
    "ip_address_of",
    "is_this_machine",
    "key_env_of",
    "load_settings",
    "missing_key_message",
    "require_key",
    "url_host",
]
