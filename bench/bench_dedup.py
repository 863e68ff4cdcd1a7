"""Duplicate chunks in a real corpus: how many, which, and what finding them costs.

Run: ``python bench/bench_dedup.py DIR [--top 10] [--chunk-tokens 500] [--store]``

Walks ``DIR`` as ``chat-tui ingest`` does, loads and chunks every file, then splits the
chunks with :class:`chat_tui.ingest.dedup.DuplicateBook` in walk order. Prints the chunks,
the duplicates found (count and share: chunks that would be recorded as copies instead of
stored and embedded), the most repeated texts, and the time of loading + chunking next to
the time of keying (the cost dedup adds to an ingest). Reads only; writes nothing.

``--store`` also ingests ``DIR`` for real (a temporary Milvus Lite server, the fake Jina
server in its own process, 64-d vectors) and prints what the knowledge base did: chunks
vs chunks embedded (before this change every chunk was embedded and stored), the ingest
time, a search for the most repeated passage (hits, ``also_in``), the time to remove the
file storing it (the hand-over to a copy), and a re-ingest of the unchanged tree.
Everything it writes is in a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import sys
import tempfile
import time
from dataclasses import replace
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
    parser.add_argument("--store", action="store_true", help="also ingest into Milvus Lite")
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
    if args.store:
        top = book.repeated()[:1]
        bench_store(args.folder, texts[top[0][0]] if top else "", args.chunk_tokens)


def bench_store(folder: Path, repeated: str, chunk_tokens: int) -> None:
    """Ingest ``folder`` into a temporary KB and print what dedup did there."""
    from chat_tui.config import (
        EmbeddingSettings,
        IngestSettings,
        ProviderSettings,
        Settings,
    )
    from chat_tui.ingest.pipeline import ingest_paths
    from chat_tui.retrieval.milvus_server import ensure_local_server, stop_local_server
    from chat_tui.retrieval.milvus_store import KnowledgeStore
    from tests.support.fake_jina import FakeJina

    fake = FakeJina().start()  # in this process: no CPU is attributed here, unlike bench_ingest
    url, key = fake.url, fake.api_key
    work = Path(tempfile.mkdtemp(prefix="bench-dedup-"))
    provider = ProviderSettings(name="openai", base_url="http://127.0.0.1:9/v1", model="fake")
    settings = replace(
        Settings(provider=provider, providers={"openai": provider}, data_dir=work),
        embedding=EmbeddingSettings(provider="jina", base_url=url, api_key=key, dimensions=64),
        ingest=IngestSettings(chunk_tokens=chunk_tokens, chunk_overlap=50),
    )
    ensure_local_server(settings.knowledge_dir, idle_seconds=300)
    try:
        began = time.perf_counter()
        report = asyncio.run(ingest_paths([folder], settings=settings))
        wall = time.perf_counter() - began
        print(
            f"[store] ingest: {report.chunks} chunks, {report.embedded} embedded "
            f"({report.chunks - report.embedded} copies not embedded), "
            f"{len(report.added)} files, {wall:.1f} s"
        )
        store = KnowledgeStore(settings)
        try:
            words = " ".join(repeated.split()[:12])
            hits = [p for p in store.search_bm25(words, 20) if p.chunk.text == repeated]
            also = len(hits[0].also_in) if hits else 0
            print(f"  search for the most repeated passage: {len(hits)} hit(s), also_in {also}")
            if hits:
                owner = hits[0].chunk.source
                began = time.perf_counter()
                store.remove_file(owner)
                removal = time.perf_counter() - began
                after = [p for p in store.search_bm25(words, 20) if p.chunk.text == repeated]
                print(
                    f"  removing the file that stores it: {removal:.2f} s; then "
                    f"{len(after)} hit(s), also_in {len(after[0].also_in) if after else 0}"
                )
        finally:
            store.close()
        began = time.perf_counter()
        again = asyncio.run(ingest_paths([folder], settings=settings))
        print(
            f"  re-ingest: {len(again.unchanged)} unchanged, {len(again.added)} added back, "
            f"{again.embedded} embedded, {time.perf_counter() - began:.1f} s"
        )
    finally:
        stop_local_server(settings.knowledge_dir)
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
