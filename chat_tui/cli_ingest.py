"""``chat-tui ingest`` on a terminal: a progress bar, a summary, one-line errors, exit codes.

Why a module of its own: the ingest itself is a service
(:func:`chat_tui.services.knowledge.ingest`, which returns a report or raises); this is
the presentation the CLI puts around it, and the one place that leaves the process at
once on Ctrl+C. Imported only by the ``ingest`` command (it brings in rich).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from chat_tui.config import Settings


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
    when nothing was stored under it. Every path and error printed passes ``clean_line``.
    """
    from rich.console import Console

    from chat_tui.domain.text import clean_line
    from chat_tui.ingest.progress import RichIngestProgress, render_summary
    from chat_tui.services.knowledge import (
        IngestStopped,
        ingest,
        missing_paths,
        unpruned,
        what_is_kept,
    )

    console = Console(stderr=False)
    missing = missing_paths(paths)
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
                ingest(
                    settings,
                    paths,
                    knowledge_base,
                    include,
                    exclude,
                    prune,
                    rebuild=rebuild,
                    follow_links=follow_links,
                    progress=progress,
                )
            )
    except IngestStopped as error:
        print(f"chat-tui: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"chat-tui: ingest interrupted ({what_is_kept(rebuild)})", file=sys.stderr)
        _exit_now(2)
    finally:
        runner.close()
    console.print(render_summary(report))
    code = report.exit_code
    if not prune:
        return max(code, 1) if missing else code
    for path in unpruned(missing, report):
        print(
            f"chat-tui: {clean_line(path)}: no such file or directory, and nothing stored under it",
            file=sys.stderr,
        )
        code = max(code, 1)
    return code


__all__ = ["run_ingest"]
