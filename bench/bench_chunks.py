"""Chunk counts and tiny fragments (<40 characters) before and after merging, per folder.

Usage: ``python bench/bench_chunks.py DIR [DIR ...]``. "before" is what the packer makes,
"after" what ``chunk_document`` returns (fragments merged into neighbours).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from chat_tui.errors import IngestError
from chat_tui.ingest import chunking
from chat_tui.ingest.loaders import load_document, read_file_bytes


def measure(folder: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    before = after = tiny_before = tiny_after = loaded = 0
    began = time.perf_counter()
    for path in files:
        try:
            document = load_document(path, read_file_bytes(path, 20), allow_images=False)
        except IngestError:
            continue
        loaded += 1
        merged = chunking.chunk_document(document, source=str(path), file_hash="h")
        original, chunking.TINY_CHARS = chunking.TINY_CHARS, 0  # merging off
        try:
            unmerged = chunking.chunk_document(document, source=str(path), file_hash="h")
        finally:
            chunking.TINY_CHARS = original
        before += len(unmerged)
        after += len(merged)
        tiny_before += sum(len(c.text.strip()) < 40 for c in unmerged)
        tiny_after += sum(len(c.text.strip()) < 40 for c in merged)
    took = time.perf_counter() - began
    print(f"{folder}: {loaded} files, {took:.1f} s")
    print(f"  chunks        before {before:>7}  after {after:>7}")
    print(f"  under 40 chars before {tiny_before:>6}  after {tiny_after:>7}")


def main() -> None:
    for argument in sys.argv[1:] or ["."]:
        measure(Path(argument))


if __name__ == "__main__":
    main()
