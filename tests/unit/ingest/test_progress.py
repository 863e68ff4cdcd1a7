"""The CLI's progress display and summary table render what the report says."""

from __future__ import annotations

import io

from rich.console import Console

from chat_tui.ingest.progress import RichIngestProgress, render_summary
from chat_tui.ingest.report import IngestReport, SkippedFile


def report(**changes: object) -> IngestReport:
    values: dict[str, object] = {
        "knowledge_base": "notes",
        "added": ("/d/a.md", "/d/b.md"),
        "updated": ("/d/c.md",),
        "unchanged": ("/d/e.md",) * 3,
        "skipped": (SkippedFile("/d/[x].bin", "binary"), SkippedFile("/d/big.txt", "too large")),
        "removed": ("/d/gone.md",),
        "chunks": 42,
        "embedded": 42,
        "dense": True,
        "elapsed": 1.25,
    }
    values.update(changes)
    return IngestReport(**values)  # type: ignore[arg-type]


def rendered(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(renderable)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output


def test_exit_codes_and_counts() -> None:
    assert report().exit_code == 0  # skipped by policy: the same on every run, not a failure
    assert report(skipped=()).exit_code == 0
    failed = (*report().skipped, SkippedFile("/d/bad.pdf", "parse failure (corrupt PDF)", True))
    assert report(skipped=failed).exit_code == 1
    assert report().files_seen == 2 + 1 + 3 + 2


def test_summary_lists_outcomes_reasons_and_time() -> None:
    text = rendered(render_summary(report()))
    assert "'notes'" in text
    rows = {
        cells[1].strip(): cells[2].strip()
        for line in text.splitlines()
        if len(cells := line.split("│")) > 3 and cells[1].strip()
    }
    assert rows == {
        "added": "2",
        "updated": "1",
        "unchanged": "3",
        "skipped": "2",
        "removed": "1",
        "chunks stored": "42",
        "elapsed": "1.2 s",
    }
    # Each skipped file was listed as it was skipped; the summary counts reasons only.
    assert "binary: 1" in text and "too large: 1" in text
    assert "/d/[x].bin" not in text and "/d/big.txt" not in text
    assert "dense + BM25" in text
    assert "BM25 only" in rendered(render_summary(report(dense=False)))


def test_progress_bar_counts_files_and_prints_skips() -> None:
    console = Console(file=io.StringIO(), width=120, color_system=None, force_terminal=False)
    with RichIngestProgress(console) as progress:
        progress.started(3)
        progress.chunks_embedded(10)
        progress.file_done("/d/a.md", 10)
        progress.file_skipped("/d/[x].bin", "binary")
        progress.file_done("/d/b.md", 0)
        task = progress._progress.tasks[0]
        assert (task.completed, task.total) == (3, 3)
        assert task.fields["chunks"] == "10"  # stored chunks (an unchanged file adds 0)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert "skipped /d/[x].bin: binary" in output
