"""Knowledge-base operations shared by the CLI (``chat-tui kb ...``, ``ingest``) and the TUI.

They return data and raise typed errors; the front ends print and choose exit codes
(:mod:`chat_tui.cli_ingest` for ``ingest``). pymilvus and the parsers are imported only
when one of these runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chat_tui.config import Settings
from chat_tui.errors import ChatTuiError, RetrievalError

if TYPE_CHECKING:
    from chat_tui.ingest.report import IngestProgress, IngestReport
    from chat_tui.retrieval.milvus_store import KnowledgeStore
    from chat_tui.retrieval.types import Passage


@dataclass(frozen=True)
class SearchResult:
    passages: list[Passage]
    notice: str | None = None


def _store(settings: Settings, knowledge_base: str) -> KnowledgeStore:
    from chat_tui.retrieval.milvus_store import KnowledgeStore

    return KnowledgeStore(settings, knowledge_base)


def list_knowledge_bases(settings: Settings) -> list[str]:
    """Names of the knowledge bases that exist."""
    from chat_tui.retrieval.milvus_store import KnowledgeStore

    return KnowledgeStore.list_knowledge_bases(settings)


def legacy_notice(settings: Settings) -> str | None:
    """A one-line notice when knowledge bases of an older chat-tui lie unread, else None.

    chat-tui before Milvus Lite 2.5 kept them in ``<knowledge dir>/milvus`` in a format
    2.5 cannot read; they are left where they are (nothing is deleted for the user).
    """
    from chat_tui.retrieval.milvus_server import legacy_data_dir

    legacy = legacy_data_dir(settings.knowledge_dir)
    if settings.milvus.uri or not legacy.is_dir() or not any(legacy.iterdir()):
        return None
    return (
        f"knowledge bases made by an older chat-tui (Milvus Lite 3) in {legacy} are not "
        "read by this version: run chat-tui ingest on your folders again (then delete it)"
    )


def kb_stats(settings: Settings, knowledge_base: str) -> dict[str, object]:
    store = _store(settings, knowledge_base)
    try:
        if not store.exists():
            notice = legacy_notice(settings)
            raise RetrievalError(
                notice or f"knowledge base {knowledge_base!r} does not exist (run chat-tui ingest)"
            )
        return store.stats()
    finally:
        store.close()


@dataclass(frozen=True)
class RemovedFiles:
    """What ``remove_source`` removed: the stored files and their chunk count."""

    sources: list[str]
    chunks: int


def remove_source(settings: Settings, knowledge_base: str, path: Path) -> RemovedFiles:
    """Remove a stored file, or every stored file under a folder (which may be gone from disk).

    Raises:
        RetrievalError: the store failed (files removed before the failure stay removed).
    """
    from chat_tui.ingest.walk import is_under

    store = _store(settings, knowledge_base)
    try:
        if not store.exists():
            return RemovedFiles([], 0)
        target = path.expanduser().resolve()
        sources = [source for source, _, _ in store.sources() if is_under(source, [target])]
        chunks = 0
        for source in sources:
            chunks += store.remove_file(source)
        return RemovedFiles(sources, chunks)
    finally:
        store.close()


def drop(settings: Settings, knowledge_base: str) -> None:
    store = _store(settings, knowledge_base)
    try:
        if not store.exists():
            raise RetrievalError(f"knowledge base {knowledge_base!r} does not exist")
        store.drop()
    finally:
        store.close()


async def search(settings: Settings, knowledge_base: str, query: str, top_k: int) -> SearchResult:
    """Search as the chat does (hybrid with a key, BM25 without)."""
    from chat_tui.retrieval.retriever import KnowledgeBaseContext

    context = KnowledgeBaseContext(settings)
    try:
        result = await context.gather(query, knowledge_base, top_k=top_k)
    finally:
        await context.aclose()
    return SearchResult(list(result.passages), result.notice)


def hit_records(passages: Sequence[Passage]) -> list[dict[str, object]]:
    """The hits as plain records for ``kb search --json`` and the evaluation.

    Strings are raw (as stored), not cleaned for a terminal: the JSON encoder escapes them.
    ``location`` is the source as the label shows it (relative to the ingested folder,
    with ``#anchor``).
    """
    from chat_tui.domain.models import Citation

    records: list[dict[str, object]] = []
    for passage in passages:
        chunk = passage.chunk
        raw = Citation(source=chunk.source, anchor=chunk.anchor, root=chunk.root)
        records.append(
            {
                "source": chunk.source,
                "location": raw.location,
                "heading": chunk.heading,
                "line_start": chunk.line_start,
                "line_end": chunk.line_end,
                "page": chunk.page,
                "anchor": chunk.anchor,
                "score": passage.score,
                "text": chunk.text,
                "knowledge_base": passage.knowledge_base,
            }
        )
    return records


def what_is_kept(rebuild: bool) -> str:
    """What an ingest that stopped part-way leaves in the knowledge base (one clause)."""
    if rebuild:
        # The old contents were dropped once the embedder and store answered; what the
        # rebuild stored before the failure is kept, each file complete.
        return (
            "the rebuild stopped partway: only the files finished so far are in the "
            "knowledge base; run it again to finish"
        )
    return "nothing already stored was lost; files finished so far are stored"


class IngestStopped(ChatTuiError):
    """An ingest stopped by an error part-way; ``str()`` says why and what is kept.

    Attributes:
        cause: the error that stopped it.
        rebuild: whether it was a ``--rebuild``.
    """

    def __init__(self, cause: ChatTuiError, rebuild: bool) -> None:
        from chat_tui.domain.text import clean_line

        super().__init__(f"ingest stopped: {clean_line(cause)} ({what_is_kept(rebuild)})")
        self.cause = cause
        self.rebuild = rebuild


def missing_paths(paths: Sequence[Path]) -> list[Path]:
    """The ``paths`` that do not exist (a dangling symbolic link exists)."""
    return [p for p in paths if not p.exists() and not p.is_symlink()]


def unpruned(missing: Sequence[Path], report: IngestReport) -> list[Path]:
    """The missing paths a ``--prune`` ingest removed nothing under (so: an error)."""
    from chat_tui.ingest.walk import is_under

    return [
        path
        for path in missing
        if not any(is_under(source, [path.expanduser().resolve()]) for source in report.removed)
    ]


async def ingest(
    settings: Settings,
    paths: Sequence[Path],
    knowledge_base: str,
    include: Sequence[str],
    exclude: Sequence[str],
    prune: bool,
    rebuild: bool = False,
    follow_links: bool = False,
    progress: IngestProgress | None = None,
) -> IngestReport:
    """Ingest ``paths`` (see ``ingest.pipeline.ingest_paths``); the caller owns the loop.

    With ``rebuild`` the knowledge base is dropped only once the embedder and the store
    have answered, so a fatal error loses nothing. With ``follow_links``, symbolic links
    out of ``paths`` are followed too.

    Raises:
        IngestStopped: a fatal error part-way (what was stored stays, file by file).
    """
    from chat_tui.ingest.pipeline import ingest_paths

    try:
        return await ingest_paths(
            paths,
            settings=settings,
            knowledge_base=knowledge_base,
            include=include,
            exclude=exclude,
            prune=prune,
            rebuild=rebuild,
            follow_links=follow_links,
            progress=progress,
        )
    except IngestStopped:
        raise
    except ChatTuiError as error:
        raise IngestStopped(error, rebuild) from error
