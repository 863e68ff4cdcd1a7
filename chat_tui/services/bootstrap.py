"""Opening everything the app needs, in one place used by the CLI, the TUI and tests.

Opening is cheap: the history index and the role files. Nothing here imports
openai, pymilvus, markdown_it or pygments; those load on first use or in the warm-up
functions below, which a front end runs in a thread once its first frame is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chat_tui.config import Settings
from chat_tui.domain.defaults import DEFAULT, Default
from chat_tui.domain.models import Role
from chat_tui.domain.roles import load_roles
from chat_tui.services.chat import ChatService, ContextProvider
from chat_tui.services.sessions import SessionService
from chat_tui.storage.base import SessionRepository

if TYPE_CHECKING:
    from chat_tui.llm.client import ChatClient
    from chat_tui.services.history_search import HistorySearch

log = logging.getLogger(__name__)


@dataclass
class AppServices:
    """What a front end works with.

    The settings have one owner, the chat service (whose requests use them); this
    object only reads through to it, so a provider or model switch (F5, F4) made
    here is what every reader sees next: the status line, the pickers, the palette,
    the knowledge-base search and the state keeper.
    """

    repository: SessionRepository
    roles: list[Role]
    chat: ChatService
    notices: list[str] = field(default_factory=list)
    _history_search: HistorySearch | None = field(default=None, init=False, repr=False)

    @property
    def settings(self) -> Settings:
        """The settings in force, with the provider and model chosen since start-up."""
        return self.chat.settings

    def use_provider(self, name: str) -> None:
        """Make provider profile ``name`` the active one, for every reader.

        Raises:
            ConfigError: no profile has that name.
        """
        self.chat.use_provider(name)

    def use_model(self, model: str) -> None:
        """Use ``model`` with the active provider, for every reader."""
        self.chat.use_model(model)

    @property
    def sessions(self) -> SessionService:
        """Sessions for a front end: every storage call runs in a thread."""
        return self.chat.sessions

    @property
    def history_search(self) -> HistorySearch:
        """Search across every session (ctrl+f), opened on first use and kept open."""
        if self._history_search is None:
            from chat_tui.services.history_search import HistorySearch

            self._history_search = HistorySearch(self.settings.history_dir)
        return self._history_search

    def close(self) -> None:
        if self._history_search is not None:
            self._history_search.close()
        self.repository.close()


def default_context_provider(settings: Settings) -> ContextProvider | None:
    """The knowledge-base retrieval step, or None when retrieval is off."""
    if not settings.retrieval.enabled:
        return None
    try:
        from chat_tui.retrieval.retriever import KnowledgeBaseContext
    except ImportError:  # pragma: no cover - retrieval extras missing
        return None
    return KnowledgeBaseContext(settings)


def open_services(
    settings: Settings,
    *,
    repository: SessionRepository | None = None,
    client_factory: Callable[[Settings], ChatClient] | None = None,
    context: ContextProvider | None | Default = DEFAULT,
) -> AppServices:
    """Open history and roles and build the chat service.

    Args:
        settings: the loaded settings.
        repository: an already-open repository (tests); by default the TinyDB one.
        client_factory: builds the chat client (tests point it at a local server).
        context: the retrieval seam; ``DEFAULT`` builds the knowledge-base one, None: none.

    Raises:
        StorageError: the history directory cannot be used at all.
    """
    if repository is None:
        from chat_tui.storage.tinydb_repo import TinyDBRepository

        repository = TinyDBRepository(settings.history_dir)
    notices = list(repository.notices)
    if settings.history.retention_days > 0:
        removed = repository.prune_older_than(settings.history.retention_days)
        if removed:
            notices.append(
                f"Removed {removed} session(s) idle for more than "
                f"{settings.history.retention_days:g} days (history.retention_days)."
            )
    roles, problems = load_roles(settings.roles_dir)
    notices.extend(problems)
    provider = default_context_provider(settings) if context is DEFAULT else context
    chat = ChatService(
        settings,
        repository,
        roles,
        context=provider,
        client_factory=client_factory,
    )
    return AppServices(repository, roles, chat, notices)


WARM_LANGUAGES = ("python", "bash", "json", "javascript")
"""Code-block languages whose Pygments lexer is built ahead: the ones answers open with."""

_WARM_MARKDOWN = "# Title\n\nSome *text* with `code`.\n\n```python\nprint(1)\n```\n"


def warm_up_chat(services: AppServices) -> None:
    """Build the chat client the first answer will use (blocking: run in a thread).

    Importing openai takes ~0.7-1.3 s; a turn that starts meanwhile waits for this
    build rather than starting its own. A failure is left for that turn to report.
    """
    try:
        services.chat.prepare_client()
    except Exception:  # noqa: BLE001 - the first turn builds it again and says why
        log.debug("warming the chat client failed", exc_info=True)


def warm_up_rendering() -> None:
    """Import the Markdown parser and build common lexers (blocking: run in a thread).

    The first answer otherwise imports markdown_it (~100 ms) and compiles a lexer's
    regexes (~120-170 ms for Python) on the event loop, between its first token and
    the screen. Both are process-wide caches, so doing it once here is enough.
    """
    try:
        from markdown_it import MarkdownIt
        from pygments.lexers import get_lexer_by_name

        MarkdownIt("gfm-like").parse(_WARM_MARKDOWN)
        for language in WARM_LANGUAGES:
            lexer = get_lexer_by_name(language, stripnl=False, ensurenl=True)
            for _ in lexer.get_tokens("x = 1\n"):
                pass
    except Exception:  # noqa: BLE001 - only a head start; rendering works without it
        log.debug("warming the renderer failed", exc_info=True)


def warm_up_retrieval(settings: Settings) -> None:
    """Start the local Milvus Lite server if answers will search it (blocking: run in a thread).

    A cold server takes a few seconds; it starts only when retrieval is on, no server
    URI is set and a knowledge folder already exists.
    """
    if settings.retrieval.enabled and not settings.milvus.uri:
        from chat_tui.retrieval.grpc_quiet import quiet_grpc
        from chat_tui.retrieval.milvus_server import data_dir, ensure_local_server

        if data_dir(settings.knowledge_dir).is_dir():
            quiet_grpc()  # before grpc is first imported: its logs would draw over the app
            from chat_tui.retrieval.pymilvus_import import import_pymilvus

            import_pymilvus()  # as the store does: without pandas, which it never uses

            ensure_local_server(settings.knowledge_dir)
            warm_up_analyzers(settings)


#: How many knowledge bases the warm-up searches once (each search loads its analyzer).
WARM_KNOWLEDGE_BASES = 3


def warm_up_analyzers(settings: Settings) -> None:
    """Search a few knowledge bases once, so their analyzers are loaded before a question.

    The engine builds jieba's dictionary on a Chinese knowledge base's first search, once
    per server process (~0.5 s on this machine, measured by ``bench/bench_lite_start.py``);
    without this the first question after launch waits for it. Read-only and best-effort:
    a failure is left for the first question to report.
    """
    from chat_tui.retrieval.milvus_store import KnowledgeStore

    try:
        names = KnowledgeStore.list_knowledge_bases(settings)
    except Exception:  # noqa: BLE001 - the first question searches again and says why
        log.debug("listing knowledge bases to warm failed", exc_info=True)
        return
    names.sort(key=lambda name: name != "default")  # the usual one first
    for name in names[:WARM_KNOWLEDGE_BASES]:
        store = KnowledgeStore(settings, name)
        try:
            if store.exists():
                store.search_bm25("文件 file", 1)
        except Exception:  # noqa: BLE001 - as above
            log.debug("warming knowledge base %r failed", name, exc_info=True)
        finally:
            store.close()


def local_model_server_detected() -> bool:
    """Whether an Ollama server answers on this machine (blocking: run in a thread)."""
    from chat_tui.llm.discovery import ollama_listening  # only on a first run

    return ollama_listening()
