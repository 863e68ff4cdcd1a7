"""Duplicate chunks in a real corpus: how many, which, and what finding them costs.

Run: ``python bench/bench_dedup.py DIR [--top 10] [--chunk-tokens 500]``

Walks ``DIR`` as ``chat-tui ingest`` does, loads and chunks every file, then splits the
chunks with :class:`chat_tui.ingest.dedup.DuplicateBook` in walk order. Prints the chunks,
the duplicates found (count and share: chunks that would be recorded as copies instead of
stored and embedded), the most repeated texts, and the time of loading + chunking next to
the time of keying (the cost dedup adds to an ingest). Reads only; writes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chat_tui.domain.text import clean_line  # noqa: E402
from chat_tui.errors import ChatTuiError  # noqa: E402
from chat_tui.ingest.chunking import chunk_document  # noqa: E402
from chat_tui.ingest.dedup import DuplicateBook, dedup_key  # noqa: E402
from chat_tui.ingest.loaders import load_document, read_file_bytes  # noqa: E402
from chat_tui.ingest.walk import walk  # noqa: E402
from chat_tui.retrieval.types import Chunk  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--chunk-tokens", type=int, default=500)
    args = parser.parse_args()

    began = time.perf_counter()
    files = walk([args.folder]).files
    per_file: list[list[Chunk]] = []
    failed = 0
    for path in files:
        try:
            data = read_file_bytes(path, 20.0)
            document = load_document(path, data, allow_images=False)
            per_file.append(
                chunk_document(
                    document,
                    source=str(path),
                    file_hash=hashlib.sha256(data).hexdigest(),
                    chunk_tokens=args.chunk_tokens,
                    overlap=50,
                )
            )
        except (ChatTuiError, ValueError, LookupError, RecursionError, OSError):
            failed += 1
    chunk_seconds = time.perf_counter() - began

    began = time.perf_counter()
    book = DuplicateBook()
    copies = 0
    texts: dict[str, str] = {}
    for chunks in per_file:
        split = book.split(chunks)
        copies += len(split.copies)
        for chunk, key in split.copies:
            texts.setdefault(key, chunk.text)
    key_seconds = time.perf_counter() - began
    total = sum(len(chunks) for chunks in per_file)
    exact = total - len({chunk.text for chunks in per_file for chunk in chunks})

    print(f"folder: {clean_line(str(args.folder))}")
    print(f"files: {len(files)} walked, {len(per_file)} chunked, {failed} refused")
    print(f"chunks: {total}")
    share = 100.0 * copies / total if total else 0.0
    print(f"duplicates: {copies} ({share:.1f} %), of which {exact} byte-identical texts")
    print(
        f"load+chunk: {chunk_seconds:.2f} s; keying: {key_seconds * 1000:.0f} ms "
        f"({1e6 * key_seconds / max(1, total):.1f} us/chunk)"
    )
    print(f"top {args.top} repeated texts (occurrences: text):")
    for key, count in book.repeated()[: args.top]:
        text = texts.get(key, "")
        print(f"  {count:5d}: {clean_line(text[:90])!r}")
    assert all(dedup_key(texts[k]) == k for k in list(texts)[:100])


if __name__ == "__main__":
    main()
