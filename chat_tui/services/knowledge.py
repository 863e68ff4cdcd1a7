"""Knowledge-base operations shared by the CLI (``chat-tui kb ...``, ``ingest``) and the TUI.

pymilvus and the parsers are imported only when one of these runs.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from chat_tui.config import Settings
from chat_tui.errors import ChatTuiError, RetrievalError

if TYPE_CHECKING:
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


def _what_is_kept(rebuild: bool) -> str:
    if rebuild:
        # The old contents were dropped once the embedder and store answered; what the
        # rebuild stored before the failure is kept, each file complete.
        return (
            "the rebuild stopped partway: only the files finished so far are in the "
            "knowledge base; run it again to finish"
        )
    return "nothing already stored was lost; files finished so far are stored"


def _exit_now(code: int) -> NoReturn:
    """Exit without waiting for worker threads (a store call or a parse in flight).

    Closing the event loop joins its thread pool, and a Milvus request or a parse that is
    running cannot be interrupted: Ctrl+C would wait for it. The store is all-or-none per
    file even under ``kill -9`` (see ``KnowledgeStore``), so leaving at once loses nothing.
    """
    import logging

    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def run_ingest(
    settings: Settings,
    paths: Sequence[Path],
    knowledge_base: str,
    include: Sequence[str],
    exclude: Sequence[str],
    prune: bool,
    rebuild: bool = False,
    follow_links: bool = False,
) -> int:
    """Run an ingest with a progress bar and a summary; returns the exit status (0, 1 or 2).

    A path that does not exist is an error (exit 2 when no path exists, else 1), except
    with ``prune``: then its stored files are pruned, and it is an error (exit 1) only
    when nothing was stored under it. With ``rebuild`` the knowledge base is dropped only
    once the embedder and the store have answered, so a fatal error loses nothing.
    With ``follow_links``, symbolic links out of ``paths`` are followed too. Every path
    and error printed passes ``clean_line``.
    """
    from rich.console import Console

    from chat_tui.domain.text import clean_line
    from chat_tui.ingest.pipeline import ingest_paths
    from chat_tui.ingest.progress import RichIngestProgress, render_summary
    from chat_tui.ingest.walk import is_under

    console = Console(stderr=False)
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if not prune:
        for path in missing:
            print(f"chat-tui: {clean_line(path)}: no such file or directory", file=sys.stderr)
        paths = [p for p in paths if p not in missing]
        if not paths:
            return 2
    progress = RichIngestProgress(console)
    runner = asyncio.Runner()
    try:
        with progress:
            report = runner.run(
                ingest_paths(
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
            )
    except ChatTuiError as error:
        print(
            f"chat-tui: ingest stopped: {clean_line(error)} ({_what_is_kept(rebuild)})",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"chat-tui: ingest interrupted ({_what_is_kept(rebuild)})", file=sys.stderr)
        _exit_now(2)
    finally:
        runner.close()
    console.print(render_summary(report))
    code = report.exit_code
    for path in missing:
        root = path.expanduser().resolve()
        if prune and any(is_under(source, [root]) for source in report.removed):
            continue  # gone, and its stored files were pruned: what the user asked for
        if prune:
            print(
                f"chat-tui: {clean_line(path)}: no such file or directory, "
                "and nothing stored under it",
                file=sys.stderr,
            )
        code = max(code, 1)
    return code
