"""The hostile-file corpus (small sizes) through the real pipeline into real Milvus Lite.

The full-size run (200 MB file, 50 MB line, 100k-deep HTML, 1 GiB zip bomb) with time and
peak RSS is ``bench/bench_hostile_ingest.py``; this is the same corpus made small.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.bench_hostile_ingest import build_corpus, ingest_corpus, settings_for


def test_hostile_corpus_goes_in_without_reading_outside_the_root(
    tmp_path: Path, milvus_data_dir: Path
) -> None:
    root, sockets = build_corpus(tmp_path / "c", big_mb=2, line_mb=1, html_depth=5000, bomb_mb=64)
    try:
        settings = settings_for(milvus_data_dir, max_file_mb=1.5)
        report, leaked = asyncio.run(ingest_corpus(root, settings))
    finally:
        for sock in sockets:
            sock.close()
    assert leaked == 0
    reasons = {Path(skip.path).name: skip.reason for skip in report.skipped}
    assert reasons["shadow.txt"].startswith("symlink out")
    assert reasons["zero.md"].startswith("symlink out")
    assert reasons["fifo.md"] == "a FIFO" and reasons["loop1"] == "symlink loop"
    assert reasons["big.txt"].startswith("too large")
    assert reasons["bomb.docx"].startswith(("too large unpacked", "compression ratio"))
    assert reasons["nul.md"] == "binary"
    added = {Path(path).name for path in report.added}
    assert {"good.md", "deep.html", "bottom.md", "bad-utf8.md", "one-line.txt"} <= added
    assert {"Bob's notes.md", "x'] or key not in ['.md", "new\nline.md"} <= added
    # Only the random PDF/DOCX failed to parse: everything else was policy.
    assert {Path(s.path).name for s in report.skipped if s.failed} <= {
        "random-report.pdf",
        "random-paper.docx",
    }
