"""Settings: one validated, frozen object built from the TOML file, env vars and CLI flags.

Precedence is flags > env > file > built-in defaults. A bad value raises
``ConfigError`` with a single line naming the key and the file. Loading reads
one small file and never touches the network; nothing happens at import.

API keys are kept out of ``repr`` so they cannot leak into logs or tracebacks,
and each provider profile only ever receives its own key (``OPENAI_API_KEY`` is
never sent to DeepSeek's endpoint, for instance).
"""

from __future__ import annotations

import builtins
import difflib
import ipaddress
import math
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chat_tui import locations
from chat_tui.domain.text import clean_line
from chat_tui.domain.toml_files import read_toml, reject_unknown
from chat_tui.errors import ConfigError, MissingKeyError

DEFAULT_PROVIDER = "openai"


@dataclass(frozen=True)
class BuiltinProvider:
    """A provider chat-tui knows without configuration; ``[providers.<name>]`` overrides it.

    The field names are :class:`ProviderSettings`' own: they are that profile's defaults.
    """

    base_url: str
    api_key_env: str | None
    """The environment variable holding the key (None: a local server needs none)."""
    model: str
    context_window: int


#: Built-in provider profiles, by name.
BUILTIN_PROVIDERS: dict[str, BuiltinProvider] = {
    "openai": BuiltinProvider(
        base_url="https://api.openai.com/v1",
        api_key_env="OPENAI_API_KEY",
        model="gpt-4o-mini",
        context_window=128_000,
    ),
    "deepseek": BuiltinProvider(
        base_url="https://api.deepseek.com/v1",
        api_key_env="DEEPSEEK_API_KEY",
        model="deepseek-chat",
        context_window=64_000,
    ),
    "qwen": BuiltinProvider(
        base_url="https://dashscope.aliyuncs.com/compatible-mode/v1",
        api_key_env="DASHSCOPE_API_KEY",
        model="qwen-plus",
        context_window=128_000,
    ),
    "ollama": BuiltinProvider(
        base_url="http://127.0.0.1:11434/v1",
        api_key_env=None,
        model="llama3.2",
        context_window=8_192,
    ),
}


@dataclass(frozen=True)
class ProviderSettings:
    """One OpenAI-compatible endpoint profile."""

    name: str
    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    context_window: int = 8_192
    answer_tokens: int = 1_024
    timeout: float = 60.0
    max_retries: int = 2
    temperature: float | None = None
    api_key_env: str | None = None
    """The environment variable the key is read from (None: only ``api_key`` in the file)."""
    config_file: Path | None = field(default=None, repr=False, compare=False)
    """The file this profile came from, so errors can say where to fix it."""

    @property
    def has_key(self) -> bool:
        return bool(self.api_key)

    @property
    def host(self) -> str:
        """The endpoint's host name or address, lower-case ("" when the URL has none)."""
        return url_host(self.base_url)

    @property
    def is_local(self) -> bool:
        """The endpoint is on this machine (Ollama, vLLM, llama.cpp): it needs no key."""
        return is_this_machine(self.host)

    @property
    def needs_key(self) -> bool:
        """Whether requests to this endpoint need an API key.

        Loopback, private-network and link-local addresses, single-label host names and
        ``.local`` / ``.lan`` / ``.internal`` names are taken to be self-hosted servers
        that run without one; anything else is a hosted service.
        """
        host = self.host
        if not host or self.is_local:
            return False
        address = ip_address_of(host)
        if address is None:
            name = host.rstrip(".")
            self_hosted = "." not in name or name.rsplit(".", 1)[-1] in {"local", "lan", "internal"}
            return not self_hosted
        return not (address.is_private or address.is_link_local)


def url_host(url: str) -> str:
    """``url``'s host as ``urllib.parse`` reads it: lower-case, IPv6 without brackets.

    "" when the URL has no host or cannot be parsed (an unclosed ``[``, a bad IPv6
    literal): such an endpoint is not local and is never sent a key by mistake.
    """
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def ip_address_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an IP address (an IPv4-mapped IPv6 one as its IPv4), or None for a name.

    Only the canonical forms count: ``127.1`` or ``0x7f000001`` are names here, so an
    odd spelling is never taken for this machine.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1 (and is_private says
        # True for every mapped address on Python 3.11, public ones included)
    return address


def is_this_machine(host: str) -> bool:
    """Whether a URL host (as :func:`url_host` gives it) always means this machine.

    ``localhost`` and ``*.localhost`` (RFC 6761, with or without the trailing root
    dot), 127.0.0.0/8, ``::1`` (with or without a zone), their IPv4-mapped forms, and
    the unspecified ``0.0.0.0`` / ``::``, which connect to this machine. A look-alike
    such as ``localhost.example.com`` or ``127.0.0.1.nip.io`` is not.
    """
    name = host.lower().removesuffix(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = ip_address_of(host)
    return address is not None and (address.is_loopback or address.is_unspecified)


def key_env_of(provider: ProviderSettings) -> str | None:
    """The environment variable holding ``provider``'s key (its own, else the built-in's)."""
    if provider.api_key_env:
        return provider.api_key_env
    builtin = BUILTIN_PROVIDERS.get(provider.name)
    return builtin.api_key_env if builtin else None


def missing_key_message(provider: ProviderSettings) -> str | None:
    """The one-line problem when ``provider`` needs a key and has none, else None.

    The one rule for "no key, no hosted call": the chat client checks it before any
    request, and the TUI's provider picker warns with it.
    """
    if provider.has_key or not provider.needs_key:
        return None
    where = str(provider.config_file or locations.config_file())
    name = provider.name
    key_env = key_env_of(provider)
    if key_env:
        how = (
            f"export {key_env}, or set providers.{name}.api_key_env (another "
            f"variable) or providers.{name}.api_key in {where}"
        )
    else:
        how = (
            f"set providers.{name}.api_key_env (the variable holding the key) "
            f"or providers.{name}.api_key in {where}"
        )
    return clean_line(f"No API key for provider {name!r} ({provider.host}): {how}.")


def require_key(provider: ProviderSettings) -> None:
    """Raise ``MissingKeyError`` when ``provider`` needs a key and none is set."""
    problem = missing_key_message(provider)
    if problem is not None:
        raise MissingKeyError(problem)


@dataclass(frozen=True)
class HistorySettings:
    """How much history is sent and kept."""

    context_tokens: int = 0
    """Token budget for the context; 0 means the model's window less room for the answer."""
    retention_days: float = 0
    """Delete sessions idle for longer than this; 0 keeps everything."""


@dataclass(frozen=True)
class EmbeddingSettings:
    """The embedder: Jina by default, or any OpenAI-compatible ``/v1/embeddings``."""

    provider: str = "jina"
    base_url: str = "https://api.jina.ai/v1"
    api_key: str | None = field(default=None, repr=False)
    model: str = "jina-embeddings-v4"
    dimensions: int = 1_024
    batch_size: int = 128
    concurrency: int = 5
    timeout: float = 60.0
    max_retries: int = 4
    rerank: bool = False
    rerank_model: str = "jina-reranker-v2-base-multilingual"

    @property
    def enabled(self) -> bool:
        """Dense retrieval runs only with a key (or a local OpenAI-compatible server)."""
        if self.provider == "none":
            return False
        if self.provider == "openai":
            return True
        return bool(self.api_key)


@dataclass(frozen=True)
class MilvusSettings:
    """Where vectors live. ``uri`` empty means embedded Milvus Lite in the data dir."""

    uri: str = ""
    token: str | None = field(default=None, repr=False)
    collection_prefix: str = "chat_tui"


@dataclass(frozen=True)
class RetrievalSettings:
    """Retrieval before each request."""

    enabled: bool = True
    knowledge_base: str = "default"
    top_k: int = 5
    candidates: int = 20
    timeout: float = 15.0
    #: BM25 analyzer of new knowledge bases: "jieba" (Chinese and English words, mixed
    #: text), "english" (stemming and stop words) or "standard". Fixed per knowledge base
    #: when it is created. See ``retrieval/milvus_schema.py`` for the measurements.
    analyzer: str = "jieba"
    #: How BM25 and vector rankings are fused: "weighted" RRF (``rrf_k``, ``dense_weight``;
    #: the default, which a weak embedder cannot drag below BM25 alone) or plain "rrf"
    #: (k=60, equal weights). See ``retrieval/fusion.py`` and ``bench/bench_eval.py``.
    fusion: str = "weighted"
    rrf_k: int = 10
    dense_weight: float = 0.1


#: Generated artefacts a folder walk skips unless told otherwise (gitwildmatch globs,
#: relative to the walked folder): Sphinx's ``_sources`` twins, search index, static assets
#: and index pages, minified and mapped bundles, lock files, dependency and build folders.
#: Not what a user means by "my documents", and half of a Sphinx build's chunks.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    "_sources/",
    "_static/",
    "_build/",
    "node_modules/",
    "__pycache__/",
    "searchindex.js",
    "genindex*.html",
    "*modindex*.html",
    "search.html",
    "*.min.js",
    "*.min.css",
    "*.map",
    "*.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
)


@dataclass(frozen=True)
class IngestSettings:
    """Chunking and file limits for ``chat-tui ingest``.

    Attributes:
        default_excludes: globs a folder walk skips by default (``DEFAULT_EXCLUDES``); set
            ``[ingest] default_excludes = []`` to read everything. A file named on the
            command line is always read.
    """

    chunk_tokens: int = 500
    chunk_overlap: int = 50
    max_file_mb: float = 20.0
    default_excludes: tuple[str, ...] = DEFAULT_EXCLUDES


@dataclass(frozen=True)
class Settings:
    """Everything chat-tui reads from config, env and flags."""

    provider: ProviderSettings
    providers: Mapping[str, ProviderSettings]
    history: HistorySettings = HistorySettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    milvus: MilvusSettings = MilvusSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    ingest: IngestSettings = IngestSettings()
    keymap: Mapping[str, str] = field(default_factory=dict)
    theme: str = "textual-dark"
    default_role: str = "assistant"
    data_dir: Path = field(default_factory=locations.data_dir)
    config_dir: Path = field(default_factory=locations.config_dir)
    config_file: Path = field(default_factory=locations.config_file)

    @property
    def history_dir(self) -> Path:
        return locations.history_dir(self.data_dir)

    @property
    def knowledge_dir(self) -> Path:
        return locations.knowledge_dir(self.data_dir)

    @property
    def roles_dir(self) -> Path:
        return locations.roles_dir(self.config_dir)

    @property
    def state_file(self) -> Path:
        return locations.state_file(self.data_dir)

    @property
    def log_file(self) -> Path:
        return locations.log_file(self.data_dir)

    def with_provider(self, name: str) -> Settings:
        """The same settings with another provider profile active."""
        if name not in self.providers:
            raise ConfigError(f"unknown provider {name!r} (known: {', '.join(self.providers)})")
        return replace(self, provider=self.providers[name])

    def secrets(self) -> list[str]:
        """Every configured secret, for scrubbing text shown to users."""
        found = [p.api_key for p in self.providers.values() if p.api_key]
        found += [s for s in (self.embedding.api_key, self.milvus.token) if s]
        return found


class _Reader:
    """Typed access to one TOML table, so errors name the dotted key and the file."""

    def __init__(self, data: Mapping[builtins.str, Any], prefix: builtins.str, path: Path) -> None:
        self.data = data
        self.prefix = prefix
        self.path = path

    def _fail(self, key: builtins.str, expected: builtins.str, value: Any) -> ConfigError:
        shown = clean_line(repr(value))
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return ConfigError(f"{self.path}: {self.prefix}{key} must be {expected}, got {shown}")

    def table(self, key: builtins.str) -> _Reader:
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise self._fail(key, "a table", value)
        return _Reader(value, f"{self.prefix}{key}.", self.path)

    def only(self, known: Collection[builtins.str], tables: Collection[builtins.str] = ()) -> None:
        """Reject keys (and sub-tables) this table does not have, with a "did you mean"."""
        reject_unknown(self.data, [*known, *tables], path=self.path, prefix=self.prefix)

    def str(self, key: builtins.str, default: builtins.str) -> builtins.str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "a string", value)
        return value

    def opt_str(self, key: builtins.str) -> builtins.str | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self._fail(key, "a string", value)
        return value

    def int(
        self,
        key: builtins.str,
        default: builtins.int,
        minimum: builtins.int = 0,
        maximum: builtins.int | None = None,
    ) -> builtins.int:
        value = self.data.get(key, default)
        expected = f"a whole number >= {minimum}" + (
            f" and <= {maximum}" if maximum is not None else ""
        )
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, expected, value)
        if value < minimum or (maximum is not None and value > maximum):
            raise self._fail(key, expected, value)
        return value

    def float(
        self,
        key: builtins.str,
        default: builtins.float,
        minimum: builtins.float = 0.0,
        maximum: builtins.float | None = None,
    ) -> builtins.float:
        value = self.data.get(key, default)
        expected = f"a number >= {minimum:g}" + (
            f" and <= {maximum:g}" if maximum is not None else ""
        )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, expected, value)
        # nan compares false with everything and inf passes any minimum: both would be
        # accepted, then make every request fail (a timeout of nan or inf seconds).
        if not math.isfinite(value):
            raise self._fail(key, f"a finite number ({expected})", value)
        if value < minimum or (maximum is not None and value > maximum):
            raise self._fail(key, expected, value)
        return float(value)

    def opt_float(
        self,
        key: builtins.str,
        minimum: builtins.float = 0.0,
        maximum: builtins.float | None = None,
    ) -> builtins.float | None:
        if self.data.get(key) is None:
            return None
        return self.float(key, 0.0, minimum, maximum)

    def str_list(
        self, key: builtins.str, default: tuple[builtins.str, ...]
    ) -> tuple[builtins.str, ...]:
        value = self.data.get(key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of strings", value)
        return tuple(value)

    def bool(self, key: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value


def _field_names(cls: type, *, skip: Collection[str] = ()) -> list[str]:
    """The TOML keys of a settings table: its dataclass fields (the field is the schema)."""
    return [f.name for f in fields(cls) if f.name not in skip]


_PROVIDER_KEYS = [*_field_names(ProviderSettings, skip=("name", "config_file"))]
_TOP_KEYS = ("provider", "theme", "default_role")
_TOP_TABLES = ("providers", "history", "embedding", "milvus", "retrieval", "ingest", "keymap")


def _providers(table: _Reader, env: Mapping[str, str]) -> dict[str, ProviderSettings]:
    providers: dict[str, ProviderSettings] = {}
    names = list(BUILTIN_PROVIDERS) + [n for n in table.data if n not in BUILTIN_PROVIDERS]
    for name in names:
        entry = table.table(name)
        entry.only(_PROVIDER_KEYS)
        builtin = BUILTIN_PROVIDERS.get(name)
        base_url, key_env, model, window = (
            (builtin.base_url, builtin.api_key_env, builtin.model, builtin.context_window)
            if builtin
            else ("", None, "", 8_192)
        )
        key_env = entry.opt_str("api_key_env") or key_env
        base_url = entry.str("base_url", base_url)
        if name == "openai":
            base_url = env.get("OPENAI_BASE_URL") or base_url
        if not base_url:
            raise ConfigError(f"{table.path}: providers.{clean_line(name)}.base_url is required")
        # Env beats file, as for every other setting: a key exported for this shell wins
        # over one written in config.toml.
        api_key = (env.get(key_env) if key_env else None) or entry.opt_str("api_key") or None
        providers[name] = ProviderSettings(
            name=name,
            base_url=base_url.rstrip("/"),
            model=entry.str("model", model) or "default",
            api_key=api_key,
            context_window=entry.int("context_window", window, 256),
            answer_tokens=entry.int("answer_tokens", 1_024, 16),
            timeout=entry.float("timeout", 60.0, 0.1, 86_400.0),
            max_retries=entry.int("max_retries", 2, 0, 20),
            temperature=entry.opt_float("temperature", 0.0, 2.0),
            api_key_env=key_env,
            config_file=table.path,
        )
    return providers


def _fusion(table: _Reader) -> str:
    value = table.str("fusion", "weighted")
    if value not in ("weighted", "rrf"):
        raise table._fail("fusion", '"weighted" or "rrf"', value)
    return value


def _analyzer(table: _Reader) -> str:
    value = table.str("analyzer", "jieba")
    if value not in ("jieba", "english", "standard"):
        raise table._fail("analyzer", '"jieba", "english" or "standard"', value)
    return value


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
    root = _Reader(read_toml(path), "", path)
    root.only(_TOP_KEYS, _TOP_TABLES)
    root.table("history").only(_field_names(HistorySettings))
    root.table("embedding").only(_field_names(EmbeddingSettings))
    root.table("milvus").only(_field_names(MilvusSettings))
    root.table("retrieval").only(_field_names(RetrievalSettings))
    root.table("ingest").only(_field_names(IngestSettings))

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

    history = root.table("history")
    emb = root.table("embedding")
    emb_provider = emb.str("provider", "jina")
    if emb_provider not in {"jina", "openai", "none"}:
        raise emb._fail("provider", '"jina", "openai" or "none"', emb_provider)
    default_emb_url = "https://api.jina.ai/v1" if emb_provider == "jina" else ""
    emb_key_env = "JINA_API_KEY" if emb_provider == "jina" else "CHAT_TUI_EMBEDDING_API_KEY"
    embedding = EmbeddingSettings(
        provider=emb_provider,
        base_url=(
            (env.get("JINA_BASE_URL") if emb_provider == "jina" else None)
            or emb.str("base_url", default_emb_url)
        ).rstrip("/"),
        api_key=env.get(emb_key_env) or emb.opt_str("api_key"),
        model=emb.str("model", "jina-embeddings-v4"),
        dimensions=emb.int("dimensions", 1_024, 1),
        batch_size=emb.int("batch_size", 128, 1),
        concurrency=emb.int("concurrency", 5, 1),
        timeout=emb.float("timeout", 60.0, 0.1, 86_400.0),
        max_retries=emb.int("max_retries", 4, 0, 20),
        rerank=emb.bool("rerank", False),
        rerank_model=emb.str("rerank_model", "jina-reranker-v2-base-multilingual"),
    )
    if emb_provider == "openai" and not embedding.base_url:
        raise ConfigError(
            f"{path}: embedding.base_url is required when embedding.provider = 'openai'"
        )
    mil = root.table("milvus")
    milvus = MilvusSettings(
        uri=env.get("CHAT_TUI_MILVUS_URI") or mil.str("uri", ""),
        token=env.get("CHAT_TUI_MILVUS_TOKEN") or mil.opt_str("token"),
        collection_prefix=mil.str("collection_prefix", "chat_tui"),
    )
    ret = root.table("retrieval")
    ing = root.table("ingest")
    chunk_tokens = ing.int("chunk_tokens", 500, 32)
    overlap = ing.int("chunk_overlap", 50)
    if overlap >= chunk_tokens:
        raise ConfigError(f"{path}: ingest.chunk_overlap must be smaller than ingest.chunk_tokens")
    keymap_table = root.table("keymap")
    keymap: dict[str, str] = {}
    for binding_id in keymap_table.data:
        keymap[binding_id] = keymap_table.str(binding_id, "")

    return Settings(
        provider=active,
        providers=providers,
        history=HistorySettings(
            context_tokens=history.int("context_tokens", 0),
            retention_days=history.float("retention_days", 0, 0, 1_000_000),
        ),
        embedding=embedding,
        milvus=milvus,
        retrieval=RetrievalSettings(
            enabled=ret.bool("enabled", True),
            knowledge_base=ret.str("knowledge_base", "default"),
            top_k=ret.int("top_k", 5, 1),
            candidates=ret.int("candidates", 20, 1),
            timeout=ret.float("timeout", 15.0, 0.1, 3_600.0),
            analyzer=_analyzer(ret),
            fusion=_fusion(ret),
            rrf_k=ret.int("rrf_k", 10, 1),
            dense_weight=ret.float("dense_weight", 0.1, 0.0, 100.0),
        ),
        ingest=IngestSettings(
            chunk_tokens=chunk_tokens,
            chunk_overlap=overlap,
            max_file_mb=ing.float("max_file_mb", 20.0, 0.001, 100_000.0),
            default_excludes=ing.str_list("default_excludes", DEFAULT_EXCLUDES),
        ),
        keymap=keymap,
        theme=root.str("theme", "textual-dark"),
        default_role=root.str("default_role", "assistant"),
        data_dir=data_dir or locations.data_dir(),
        config_dir=path.parent,
        config_file=path,
    )
