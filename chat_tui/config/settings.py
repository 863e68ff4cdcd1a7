"""The settings dataclasses: every setting and its default, written once.

A field's default is the built-in value and its metadata (``bounded``, ``one_of``)
the range a file may set: ``chat_tui.config.loading`` reads the TOML file by walking
these fields, so adding a setting here is all it takes to make it configurable.
The objects are frozen; ``Settings`` is the one validated object the app runs on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from chat_tui import locations
from chat_tui.config.providers import ProviderSettings
from chat_tui.config.schema import bounded, one_of
from chat_tui.errors import ConfigError


@dataclass(frozen=True)
class HistorySettings:
    """How much history is sent and kept."""

    context_tokens: int = bounded(0, 0)
    """Token budget for the context; 0 means the model's window less room for the answer."""
    retention_days: float = bounded(0, 0, 1_000_000)
    """Delete sessions idle for longer than this; 0 keeps everything."""


@dataclass(frozen=True)
class EmbeddingSettings:
    """The embedder: Jina by default, or any OpenAI-compatible ``/v1/embeddings``."""

    provider: str = one_of("jina", "openai", "none")
    base_url: str = "https://api.jina.ai/v1"
    api_key: str | None = field(default=None, repr=False)
    model: str = "jina-embeddings-v4"
    dimensions: int = bounded(1_024, 1)
    batch_size: int = bounded(128, 1)
    concurrency: int = bounded(5, 1)
    timeout: float = bounded(60.0, 0.1, 86_400.0)
    max_retries: int = bounded(4, 0, 20)
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
    top_k: int = bounded(5, 1)
    candidates: int = bounded(20, 1)
    timeout: float = bounded(15.0, 0.1, 3_600.0)
    #: BM25 analyzer of new knowledge bases: "jieba" (Chinese and English words, mixed
    #: text), "english" (stemming and stop words) or "standard". Fixed per knowledge base
    #: when it is created. See ``retrieval/milvus_schema.py`` for the measurements.
    analyzer: str = one_of("jieba", "english", "standard")
    #: How BM25 and vector rankings are fused: "weighted" RRF (``rrf_k``, ``dense_weight``;
    #: the default, which a weak embedder cannot drag below BM25 alone) or plain "rrf"
    #: (k=60, equal weights). See ``retrieval/fusion.py`` and ``bench/bench_eval.py``.
    fusion: str = one_of("weighted", "rrf")
    rrf_k: int = bounded(10, 1)
    dense_weight: float = bounded(0.1, 0.0, 100.0)


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

    chunk_tokens: int = bounded(500, 32)
    chunk_overlap: int = bounded(50, 0)
    max_file_mb: float = bounded(20.0, 0.001, 100_000.0)
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
    def attachments_dir(self) -> Path:
        return locations.attachments_dir(self.data_dir)

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
