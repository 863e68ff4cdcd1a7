"""What an ingest reports while it runs (``IngestProgress``) and when it ends (``IngestReport``).

Kept apart from the pipeline so a front end (the CLI's rich progress bar, a TUI screen, a
test) can depend on these small types without importing the pipeline's machinery.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from typing import Protocol

from chat_tui.domain.text import clean_line
from chat_tui.errors import IngestError


def file_type_name(mode: int) -> str:
    """A short name of a non-regular file's type (``st_mode``), for skip reasons.

    The walk and the reader both refuse such files; one wording for both.
    """
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


class FileRefused(IngestError):
    """A file skipped by policy (binary, unsupported, too large, a link out, not a regular
    file...): it will be skipped on every run, so it does not make the exit status 1."""


def generated_summary(generated: dict[str, int] | tuple[tuple[str, int], ...]) -> str:
    """One line for the entries a walk skipped as generated artefacts, or "" when none.

    ``skipped 1,819 generated files and 2 folders (genindex*.html, _sources/, …)``: the
    globs that matched most come first. Listed one by one they would drown the skips that
    matter (there can be thousands), and they are skipped on every run by design, so they
    never count as failures.
    """
    counts = dict(generated)
    if not counts:
        return ""
    folders = sum(count for glob, count in counts.items() if glob.endswith("/"))
    files = sum(counts.values()) - folders
    parts = []
    if files:
        parts.append(f"{files:,} generated file{'s' if files != 1 else ''}")
    if folders:
        parts.append(f"{folders:,} generated folder{'s' if folders != 1 else ''}")
    ranked = sorted(counts, key=lambda glob: (-counts[glob], glob))
    shown = ", ".join(ranked[:4]) + (", …" if len(ranked) > 4 else "")
    return clean_line(f"skipped {' and '.join(parts)} ({shown}; see ingest.default_excludes)")


class IngestProgress(Protocol):
    """Callbacks an ingest makes as it goes; all are called on the event loop's thread."""

    def started(self, total_files: int) -> None:
        """The walk is done: ``total_files`` files will be looked at."""
        ...

    def file_done(self, path: str, chunks: int) -> None:
        """A file is finished: stored with ``chunks`` chunks, or unchanged (``chunks`` = 0)."""
        ...

    def file_skipped(self, path: str, reason: str) -> None:
        """A file was skipped; ``reason`` is one short line ("binary", "empty", ...)."""
        ...

    def chunks_embedded(self, n: int) -> None:
        """``n`` more chunks have their vectors."""
        ...


class NoProgress:
    """An ``IngestProgress`` that shows nothing (the default when no display is given)."""

    def started(self, total_files: int) -> None:
        """Ignored."""

    def file_done(self, path: str, chunks: int) -> None:
        """Ignored."""

    def file_skipped(self, path: str, reason: str) -> None:
        """Ignored."""

    def chunks_embedded(self, n: int) -> None:
        """Ignored."""


@dataclass(frozen=True)
class SkippedFile:
    """A file that was not ingested, and why (one line).

    Attributes:
        path: the file (as found; may hold any characters: clean it before showing).
        reason: why, one short line.
        failed: True when reading, parsing or embedding it failed; False when it was
            skipped by policy (see ``FileRefused``).
    """

    path: str
    reason: str
    failed: bool = False


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one ingest.

    Attributes:
        knowledge_base: the knowledge base written to.
        added: files stored for the first time.
        updated: files whose content changed and whose chunks were replaced.
        unchanged: files whose stored content hash matched (no embedding calls).
        skipped: files not ingested, with reasons.
        removed: stored files pruned because they are gone (``prune=True``).
        generated: entries the walk skipped as generated artefacts, as ``(glob, count)``
            (``WalkResult.generated``); shown as one line (``generated_summary``), never
            failures.
        chunks: chunks stored by this run.
        embedded: chunks sent to the embedder by this run.
        dense: whether vectors were computed (False: BM25 only).
        elapsed: wall time in seconds.
    """

    knowledge_base: str
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    removed: tuple[str, ...] = ()
    generated: tuple[tuple[str, int], ...] = ()
    chunks: int = 0
    embedded: int = 0
    dense: bool = False
    elapsed: float = 0.0

    @property
    def files_seen(self) -> int:
        """How many files the walk found."""
        return len(self.added) + len(self.updated) + len(self.unchanged) + len(self.skipped)

    @property
    def exit_code(self) -> int:
        """0 when every file went in, was already in or was skipped by policy; 1 when some
        failed to read, parse or embed.

        Fatal errors never produce a report: they are raised, and the CLI exits with 2.
        """
        return 1 if any(skip.failed for skip in self.skipped) else 0
