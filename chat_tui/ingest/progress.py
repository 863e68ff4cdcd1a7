"""What ``chat-tui ingest`` shows: a rich progress bar while it runs and a summary table after.

rich (not Textual) is used because ingest runs as a plain command in a terminal or a pipe.
Each skipped file is listed once, as it is skipped; the summary counts skips per reason.
Every name and reason passes ``clean_line`` and is printed as ``Text`` (never as markup).
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from chat_tui.domain.text import clean_line
from chat_tui.ingest.report import IngestReport, SkippedFile, generated_summary

_MAX_SKIPS_SHOWN = 20
_MAX_REASONS_SHOWN = 12


class RichIngestProgress:
    """An ``IngestProgress`` that draws files done, chunks per second and the ETA.

    Use it as a context manager around the ingest so the bar is cleaned up.

    Args:
        console: where to draw (default: a new stdout console).
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self._progress = Progress(
            TextColumn("[bold]ingest[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files"),
            TextColumn("{task.fields[chunks]} chunks stored"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._task: TaskID | None = None
        self._embedded = 0
        self._stored = 0
        self._began = time.monotonic()

    def __enter__(self) -> RichIngestProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def _rate(self) -> str:
        # Embedding is the pace-setter when there is an embedder; otherwise storing is.
        elapsed = max(time.monotonic() - self._began, 1e-6)
        return f"{max(self._embedded, self._stored) / elapsed:,.0f} chunks/s"

    def started(self, total_files: int) -> None:
        self._began = time.monotonic()
        self._task = self._progress.add_task("ingest", total=total_files, chunks=0, rate="")

    def _advance(self, files: int = 0) -> None:
        if self._task is not None:
            self._progress.update(
                self._task, advance=files, chunks=f"{self._stored:,}", rate=self._rate()
            )

    def file_done(self, path: str, chunks: int) -> None:
        self._stored += chunks
        self._advance(1)

    def file_skipped(self, path: str, reason: str) -> None:
        line = f"skipped {clean_line(path)}: {clean_line(reason)}"
        self._progress.console.print(Text(line), markup=False, highlight=False)
        self._advance(1)

    def chunks_embedded(self, n: int) -> None:
        self._embedded += n
        self._advance(0)


def _reason_counts(skipped: tuple[SkippedFile, ...]) -> str:
    """``binary: 3`` lines, most frequent first; reasons cut before their details."""
    counts: dict[str, int] = {}
    for skip in skipped:
        kind = skip.reason.split(" (", 1)[0] if "(" in skip.reason else skip.reason
        label = clean_line(("failed: " if skip.failed else "") + kind[:80])
        counts[label] = counts.get(label, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    lines = [f"{label}: {count}" for label, count in ranked[:_MAX_REASONS_SHOWN]]
    if len(ranked) > _MAX_REASONS_SHOWN:
        lines.append(f"... and {len(ranked) - _MAX_REASONS_SHOWN} more reasons")
    return "\n".join(lines)


def render_summary(report: IngestReport) -> Table:
    """A table of what an ingest did: counts per outcome, skip reasons, chunks and time."""
    table = Table(
        title=Text(f"ingest into {clean_line(repr(report.knowledge_base))}"), show_header=True
    )
    table.add_column("outcome")
    table.add_column("count", justify="right")
    table.add_column("details", overflow="fold")
    table.add_row("added", str(len(report.added)), "")
    table.add_row("updated", str(len(report.updated)), "")
    table.add_row("unchanged", str(len(report.unchanged)), "")
    # The files were listed as they were skipped; here only how many for each reason.
    table.add_row("skipped", str(len(report.skipped)), Text(_reason_counts(report.skipped)))
    generated = generated_summary(report.generated)
    if generated:
        count = sum(count for _, count in report.generated)
        table.add_row("generated (left out)", f"{count:,}", Text(clean_line(generated)))
    removed = "\n".join(clean_line(path) for path in report.removed[:_MAX_SKIPS_SHOWN])
    if len(report.removed) > _MAX_SKIPS_SHOWN:
        removed += f"\n... and {len(report.removed) - _MAX_SKIPS_SHOWN} more"
    table.add_row("removed", str(len(report.removed)), Text(removed))
    mode = "dense + BM25" if report.dense else "BM25 only (no embedding key)"
    table.add_row("chunks stored", str(report.chunks), mode)
    table.add_row("elapsed", f"{report.elapsed:.1f} s", "")
    return table
