"""The hostile-file corpus through the real ingest into a real Milvus Lite: time, memory, leaks.

Run: ``python bench/bench_hostile_ingest.py [--big-mb 200] [--line-mb 50] [--html-depth 100000]
[--max-file-mb 20]``

Builds, in a temporary folder: random bytes under document names, a zip-bomb DOCX (1 GiB
declared), deeply nested HTML, a ``--big-mb`` file, a ``--line-mb`` single line, NUL bytes,
invalid UTF-8, 200-deep folders, symlink loops, links out of the folder (to a "secret"
file outside it and to ``/dev/zero``), a FIFO, a socket, odd names (quotes, backslashes,
newlines, escape sequences, expression syntax). Ingests it with ``ingest_paths`` (BM25
only, no embedder) into a fresh local Milvus Lite server and prints wall time, peak RSS of
this process, what was skipped and why, and how many chunks of the secret file outside the
root are searchable (must be 0). Targets: no hang, peak RSS < 1 GB, 0 files read outside.

``build_corpus`` is shared with the fast test (``tests/unit/ingest/test_hostile_corpus.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import sys
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chat_tui.config import EmbeddingSettings, IngestSettings, ProviderSettings, Settings  # noqa: E402
from chat_tui.ingest.report import IngestReport  # noqa: E402

SECRET_WORD = "zqxsecretword"
ODD_NAMES = [
    "Bob's notes.md",
    "back\\slash.md",
    "new\nline.md",
    "x'] or key not in ['.md",
    '" or 1==1 or ".md',
    "esc\x1b]0;PWN\x07\x1b[2J.md",
    "[bold]markup[x].md",
]


def build_corpus(
    base: Path, *, big_mb: int, line_mb: int, html_depth: int, bomb_mb: int = 1024
) -> tuple[Path, list[socket.socket]]:
    """The hostile tree under ``base/root`` (and a secret file beside it); returns the root
    and the sockets to close when done."""
    root = base / "root"
    root.mkdir(parents=True)
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET_WORD} must never be read\n", "utf-8")
    (root / "good.md").write_text("# Good\n\nA normal document about otters.\n", "utf-8")
    for name in ("report.pdf", "notes.md", "paper.docx", "page.html", "data.txt"):
        (root / f"random-{name}").write_bytes(os.urandom(64 * 1024))
    with zipfile.ZipFile(root / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"<w:t>" + b"a" * (1024 * 1024 - 5)
            for _ in range(bomb_mb):
                member.write(block)
    deep = "<div>" * html_depth + "<p>bottom of the deep page</p>" + "</div>" * html_depth
    (root / "deep.html").write_text(deep, "utf-8")
    with (root / "big.txt").open("wb") as handle:
        line = b"big file line with words\n" * 40_000
        for _ in range(big_mb * 1024 * 1024 // len(line) + 1):
            handle.write(line)
    with (root / "one-line.txt").open("wb") as handle:
        for _ in range(line_mb):
            handle.write(b"word " * (1024 * 1024 // 5))
    (root / "nul.md").write_bytes(b"# NUL\n\n" + b"text\x00more" * 1000)
    (root / "bad-utf8.md").write_bytes(b"# Bad\n\n" + b"caf\xe9 \xff\xfe ok words " * 200)
    folder = root / "deep"
    for depth in range(200):
        folder = folder / f"d{depth}"
    folder.mkdir(parents=True)
    (folder / "bottom.md").write_text("# Bottom\n\nThe deepest file.\n", "utf-8")
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")
    (root / "dir-loop").symlink_to(root, target_is_directory=True)
    (root / "shadow.txt").symlink_to(outside / "secret.txt")
    (root / "out-dir").symlink_to(outside, target_is_directory=True)
    (root / "zero.md").symlink_to("/dev/zero")
    (root / "dangling.md").symlink_to(root / "nothing-here")
    os.mkfifo(root / "fifo.md")
    sockets = []
    try:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(root / "sock.md"))
        sockets.append(server)
    except OSError:
        pass  # path too long for AF_UNIX in some temp dirs: the rest still runs
    for name in ODD_NAMES:
        (root / name).write_text(f"# Heading \x1b[31m{name!r}\n\nOdd name text.\n", "utf-8")
    return root, sockets


def settings_for(data_dir: Path, max_file_mb: float) -> Settings:
    provider = ProviderSettings(name="openai", base_url="http://127.0.0.1:9/v1", model="fake")
    settings = Settings(provider=provider, providers={"openai": provider}, data_dir=data_dir)
    return replace(
        settings,
        embedding=EmbeddingSettings(provider="none"),
        ingest=IngestSettings(max_file_mb=max_file_mb),
    )


async def ingest_corpus(root: Path, settings: Settings) -> tuple[IngestReport, int]:
    """Ingest ``root``; returns the report and how many secret chunks are searchable."""
    from chat_tui.ingest.pipeline import ingest_paths
    from chat_tui.retrieval.milvus_store import KnowledgeStore

    report = await ingest_paths([root], settings=settings, knowledge_base="hostile", embedder=None)
    store = KnowledgeStore(settings, "hostile")
    try:
        leaked = [p for p in store.search_bm25(SECRET_WORD, 10) if SECRET_WORD in p.chunk.text] + [
            (s, h, c) for s, h, c in store.sources() if not s.startswith(str(root))
        ]
    finally:
        store.close()
    return report, len(leaked)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-mb", type=int, default=200)
    parser.add_argument("--line-mb", type=int, default=50)
    parser.add_argument("--html-depth", type=int, default=100_000)
    parser.add_argument("--max-file-mb", type=float, default=20.0)
    args = parser.parse_args()
    from chat_tui.domain.text import clean_line
    from chat_tui.retrieval.milvus_server import stop_local_server

    with tempfile.TemporaryDirectory() as tmp:
        began = time.monotonic()
        root, sockets = build_corpus(
            Path(tmp), big_mb=args.big_mb, line_mb=args.line_mb, html_depth=args.html_depth
        )
        print(f"corpus built in {time.monotonic() - began:.1f} s")
        settings = settings_for(Path(tmp) / "data", args.max_file_mb)
        began = time.monotonic()
        try:
            report, leaked = asyncio.run(ingest_corpus(root, settings))
        finally:
            stop_local_server(settings.knowledge_dir)
            for sock in sockets:
                sock.close()
        wall = time.monotonic() - began
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"ingest wall time: {wall:.1f} s")
        print(f"peak RSS (this process): {peak_mb:.0f} MB (target < 1024)")
        print(f"files read outside the root: {leaked} (must be 0)")
        print(f"added {len(report.added)}, skipped {len(report.skipped)}, exit {report.exit_code}")
        for skip in report.skipped:
            failed = " [failed]" if skip.failed else ""
            name = clean_line(Path(skip.path).name)
            print(f"  skipped {name}: {clean_line(skip.reason)}{failed}")


if __name__ == "__main__":
    main()
