"""Loading the settings: the TOML file, then env vars, then CLI flags, into one object.

Precedence is flags > env > file > built-in defaults (the dataclass fields). A bad
value raises ``ConfigError`` with a single line naming the key and the file.
Loading reads one small file and never touches the network; nothing happens at
import.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path

from chat_tui import locations
from chat_tui.config.providers import BUILTIN_PROVIDERS, DEFAULT_PROVIDER, ProviderSettings
from chat_tui.config.schema import TableReader, field_names
from chat_tui.config.settings import (
    EmbeddingSettings,
    HistorySettings,
    IngestSettings,
    MilvusSettings,
    RetrievalSettings,
    Settings,
)
from chat_tui.domain.text import clean_line
from chat_tui.domain.toml_files import read_toml
from chat_tui.errors import ConfigError

_PROVIDER_KEYS = field_names(ProviderSettings, skip=("name", "config_file"))
_TOP_KEYS = ("provider", "theme", "default_role")
_TOP_TABLES = ("providers", "history", "embedding", "milvus", "retrieval", "ingest", "keymap")


def _providers(table: TableReader, env: Mapping[str, str]) -> dict[str, ProviderSettings]:
    providers: dict[str, ProviderSettings] = {}
    names = list(BUILTIN_PROVIDERS) + [n for n in table.data if n not in BUILTIN_PROVIDERS]
    for name in names:
        entry = table.table(name)
        entry.only(_PROVIDER_KEYS)
        builtin = BUILTIN_PROVIDERS.get(name)
        # A built-in's fields are named like ProviderSettings': they are its defaults.
        defaults = asdict(builtin) if builtin else {"base_url": "", "model": ""}
        base_url: str = entry.field(ProviderSettings, "base_url", defaults["base_url"])
        if name == "openai":
            base_url = env.get("OPENAI_BASE_URL") or base_url
        if not base_url:
            raise ConfigError(f"{table.path}: providers.{clean_line(name)}.base_url is required")
        values = entry.fields(ProviderSettings, defaults=defaults, skip=("name", "config_file"))
        key_env: str | None = values["api_key_env"]
        # Env beats file, as for every other setting: a key exported for this shell wins
        # over one written in config.toml.
        api_key = (env.get(key_env) if key_env else None) or values["api_key"]
        values.update(
            name=name,
            base_url=base_url.rstrip("/"),
            model=values["model"] or "default",
            api_key=api_key,
            config_file=table.path,
        )
        providers[name] = ProviderSettings(**values)
    return providers


def _embedding(table: TableReader, env: Mapping[str, str]) -> EmbeddingSettings:
    jina = table.field(EmbeddingSettings, "provider") == "jina"
    # The default URL is Jina's: another provider's server has to be named.
    values = table.fields(EmbeddingSettings, defaults=None if jina else {"base_url": ""})
    base_url: str = (env.get("JINA_BASE_URL") if jina else None) or values["base_url"]
    key_env = "JINA_API_KEY" if jina else "CHAT_TUI_EMBEDDING_API_KEY"
    values.update(base_url=base_url.rstrip("/"), api_key=env.get(key_env) or values["api_key"])
    embedding = EmbeddingSettings(**values)
    if embedding.provider == "openai" and not embedding.base_url:
        raise ConfigError(
            f"{table.path}: embedding.base_url is required when embedding.provider = 'openai'"
        )
    return embedding


def load_settings(
    *,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    provider: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    data_dir: Path | None = None,
) -> Settings:
    """Build the settings from the file, the environment and CLI flags.

    Args:
        config_file: the TOML file (default: the platform config dir's ``config.toml``).
        env: the environment (default: ``os.environ``).
        provider: ``--provider`` flag.
        model: ``--model`` flag.
        base_url: ``--base-url`` flag.
        data_dir: ``--data-dir`` flag.

    Raises:
        ConfigError: a value is malformed; the message names key and file.
    """
    env = os.environ if env is None else env
    path = config_file or locations.config_file()
    root = TableReader(read_toml(path), "", path)
    root.only(_TOP_KEYS, _TOP_TABLES)
    root.table("history").only(field_names(HistorySettings))
    root.table("embedding").only(field_names(EmbeddingSettings))
    root.table("milvus").only(field_names(MilvusSettings))
    root.table("retrieval").only(field_names(RetrievalSettings))
    root.table("ingest").only(field_names(IngestSettings))

    providers = _providers(root.table("providers"), env)
    active_name = provider or env.get("CHAT_TUI_PROVIDER") or root.str("provider", DEFAULT_PROVIDER)
    if active_name not in providers:
        known = list(providers)
        guess = difflib.get_close_matches(active_name, known, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"known: {', '.join(known)}"
        raise ConfigError(
            f"{path}: provider {clean_line(active_name)!r} is not defined under [providers] "
            f"({hint})"
        )
    active = providers[active_name]
    model = model or env.get("CHAT_TUI_MODEL")
    if model:
        active = replace(active, model=model)
    if base_url:
        active = replace(active, base_url=base_url.rstrip("/"))
        if active.is_local and not root.table("providers").table(active_name).opt_str("api_key"):
            # A local server (Ollama, vLLM, llama.cpp) needs no key: never hand it the
            # hosted provider's key from the environment.
            active = replace(active, api_key=None)
    providers[active_name] = active

    embedding = _embedding(root.table("embedding"), env)
    milvus = MilvusSettings(**root.table("milvus").fields(MilvusSettings))
    milvus = replace(
        milvus,
        uri=env.get("CHAT_TUI_MILVUS_URI") or milvus.uri,
        token=env.get("CHAT_TUI_MILVUS_TOKEN") or milvus.token,
    )
    ingest = IngestSettings(**root.table("ingest").fields(IngestSettings))
    if ingest.chunk_overlap >= ingest.chunk_tokens:
        raise ConfigError(f"{path}: ingest.chunk_overlap must be smaller than ingest.chunk_tokens")
    keymap_table = root.table("keymap")
    keymap: dict[str, str] = {}
    for binding_id in keymap_table.data:
        keymap[binding_id] = keymap_table.str(binding_id, "")

    return Settings(
        provider=active,
        providers=providers,
        history=HistorySettings(**root.table("history").fields(HistorySettings)),
        embedding=embedding,
        milvus=milvus,
        retrieval=RetrievalSettings(**root.table("retrieval").fields(RetrievalSettings)),
        ingest=ingest,
        keymap=keymap,
        **root.fields(Settings, only=("theme", "default_role")),
        data_dir=data_dir or locations.data_dir(),
        config_dir=path.parent,
        config_file=path,
    )
