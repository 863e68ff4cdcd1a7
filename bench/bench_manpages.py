"""Man pages: how many, render time with groff vs the pure-Python fallback, chunks, headings.

Usage: ``python bench/bench_manpages.py DIR``. Walks DIR for man pages (``*.1``..``*.9``,
``*.man``, also ``.gz``/``.bz2``/``.xz``), renders each both ways, and chunks the
page as ingest does (groff when installed).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from pathlib import Path

from chat_tui.errors import IngestError
from chat_tui.ingest.chunking import chunk_document
from chat_tui.ingest.loaders import decode_text, decompress, inner_path, load_document
from chat_tui.ingest.manpage import is_man_name, looks_like_roff, render_fallback, render_groff


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    groff_ms: list[float] = []
    fallback_ms: list[float] = []
    pages = chunks = headed = skipped = 0
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink() or not is_man_name(inner_path(path).name):
            continue
        data = path.read_bytes()
        try:
            raw = decompress(path, data, 20) if inner_path(path) != path else data
            source = decode_text(raw)
        except IngestError:
            skipped += 1
            continue
        if not looks_like_roff(source):
            continue
        pages += 1
        name = inner_path(path).name
        if shutil.which("groff"):
            began = time.perf_counter()
            render_groff(source)
            groff_ms.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        render_fallback(source, name)
        fallback_ms.append((time.perf_counter() - began) * 1000)
        try:
            document = load_document(path, data, allow_images=False)
        except IngestError:
            skipped += 1
            continue
        found = chunk_document(document, source=str(path), file_hash="h")
        chunks += len(found)
        headed += sum(" > " in c.heading for c in found)
    print(f"{folder}: {pages} man pages ({skipped} skipped)")
    if groff_ms:
        print(f"  render p50 groff    {statistics.median(groff_ms):7.2f} ms")
    else:
        print("  render p50 groff    (groff not installed)")
    if fallback_ms:
        print(f"  render p50 fallback {statistics.median(fallback_ms):7.2f} ms")
    print(f"  chunks {chunks}, with a section heading ('page > section') {headed}")


if __name__ == "__main__":
    main()
