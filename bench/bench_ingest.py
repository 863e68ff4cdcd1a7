"""Ingest throughput and re-ingest cost.

Run: ``python bench/bench_ingest.py [--chunks 10000] [--files 1000] [--skip-milvus]
[--analyzer jieba|standard] [--flush-chunks N]``, or on real documents
``python bench/bench_ingest.py --corpus DIR [--corpus DIR ...] [--skip-milvus] [--skip-ours]
[--profile N]``

1. **Our side**: 10,000 chunks through load -> chunk -> embed (the real ``JinaEmbedder``
   against the fake Jina server, run in its own process) -> an in-memory store. Prints
   chunks/s and splits CPU time between this process and the fake's.
2. **With Milvus Lite**: the same corpus into a real local Milvus Lite server (1024-d vectors),
   stored in batches (``replace_files``) and flushed at the end. ``--analyzer standard``
   creates the KB with the English-only BM25 analyzer instead of jieba (Milvus Lite runs
   jieba in pure Python: ~200 chunks/s of 500 tokens, the ceiling of the default setup);
   ``--flush-chunks`` sets how often the pipeline flushes during the ingest.
3. **Re-ingest**: 1,000 small files already stored, nothing changed (target < 3 s), and the
   initial ingest of those files for comparison.

4. **Real documents** (``--corpus``, e.g. the unpacked Debian packages under
   ``$CHAT_TUI_EVAL_CORPORA``: ``python3.11-doc``, ``debian-reference-en``, ``manpages-zh``):
   each folder ingested as a user without keys would (BM25 only), first into the in-memory
   store (our side alone), then into a real Milvus Lite server (unless ``--skip-milvus``).
   Synthetic Markdown measured ~1,000 chunks/s where the Python docs' HTML gave ~400: the
   figure that matters is the real one. ``--profile N`` prints the N largest cumulative
   costs of the in-memory run (cProfile; the worker threads' parsing included).

Everything runs on 127.0.0.1 in a temporary folder; nothing is left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chat_tui.config import EmbeddingSettings, IngestSettings, ProviderSettings, Settings  # noqa: E402
from chat_tui.ingest import pipeline  # noqa: E402
from chat_tui.ingest.pipeline import ingest_paths  # noqa: E402
from chat_tui.retrieval.milvus_store import KnowledgeStore  # noqa: E402
from chat_tui.retrieval.types import Chunk  # noqa: E402

FAKE_SERVER = """
import sys
from tests.support.fake_jina import FakeJina
server = FakeJina().start()
print(server.url, server.api_key, flush=True)
sys.stdin.read()
server.stop()
"""
WORDS = (
    "river stone lantern harbour meadow copper falcon orchard glacier compass willow ember "
    "thunder saffron marble violet canyon beacon quartz tundra"
).split()


class MemoryStore:
    """The ``KnowledgeStore`` calls ingest makes, kept in memory (isolates our side)."""

    #: Stores every copy (the pipeline embeds each chunk), as a KB made before dedup.
    stores_once = False

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, int]] = {}
        self.chunks = 0

    def ensure(self) -> None:
        pass

    def file_hashes(self) -> dict[str, str]:
        return {source: file_hash for source, (file_hash, _) in self.files.items()}

    def replace_file(
        self,
        source: str,
        file_hash: str,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]] | None,
    ) -> None:
        self.files[source] = (file_hash, len(chunks))
        self.chunks += len(chunks)

    def replace_files(
        self,
        items: Sequence[tuple[str, str, Sequence[Chunk], Sequence[Sequence[float]] | None]],
        *,
        flush: bool = True,
    ) -> None:
        for source, file_hash, chunks, vectors in items:
            self.replace_file(source, file_hash, chunks, vectors)

    def flush(self) -> None:
        pass

    def remove_file(self, source: str) -> int:
        return self.files.pop(source, ("", 0))[1]

    def close(self) -> None:
        pass


class InstantEmbedder:
    """An embedder that answers at once with one shared vector (the pipeline's own cost)."""

    model = "instant"
    dimensions = 1024
    dimensions_known = True
    multimodal = False
    batch_size = EmbeddingSettings.batch_size  # what the pipeline used before (the default)
    can_rerank = False

    def __init__(self) -> None:
        self.vector = [0.0] * self.dimensions

    async def embed_documents(self, chunks: Sequence[Chunk]) -> list[list[float]]:
        return [self.vector for _ in chunks]

    async def embed_query(self, text: str) -> list[float]:
        return self.vector

    async def detect_dimensions(self) -> int:
        return self.dimensions

    async def rerank(
        self, query: str, documents: Sequence[str], top_n: int
    ) -> list[tuple[int, float]]:
        raise NotImplementedError("can_rerank is False")

    async def aclose(self) -> None:
        pass


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_with_children() -> float:
    """CPU seconds of this process and its waited-for children (``man``/``groff`` renders).

    On a shared machine the wall clock mostly measures the neighbours: CPU seconds compare
    runs made under different loads.
    """
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def settings_for(data_dir: Path, url: str = "", key: str | None = None) -> Settings:
    provider = ProviderSettings(name="openai", base_url="http://127.0.0.1:9/v1", model="fake")
    embedding = (
        EmbeddingSettings(provider="jina", base_url=url, api_key=key, dimensions=1024)
        if url
        else EmbeddingSettings(provider="none")
    )
    settings = Settings(provider=provider, providers={"openai": provider}, data_dir=data_dir)
    return replace(settings, embedding=embedding, ingest=IngestSettings())


def write_corpus(root: Path, files: int, chunks_per_file: int) -> None:
    """Markdown files of ~``chunks_per_file`` 500-token sections each."""
    root.mkdir(parents=True)
    for number in range(files):
        sections = []
        for part in range(chunks_per_file):
            words = " ".join(WORDS[(number * 7 + part * 3 + i) % len(WORDS)] for i in range(12))
            sentence = f"Section {part} of file {number} mentions {words}. "
            sections.append(f"## Part {part}\n\n" + sentence * 14)
        text = f"# File {number}\n\n" + "\n\n".join(sections) + "\n"
        (root / f"file{number:05d}.md").write_text(text, encoding="utf-8")


def start_fake() -> tuple[subprocess.Popen[str], str, str]:
    repo = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-c", FAKE_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    assert process.stdout is not None
    url, key = process.stdout.readline().split()
    return process, url, key


def bench_our_side(work: Path, url: str, key: str, fake_pid: int, chunks: int) -> None:
    corpus = work / "throughput"
    write_corpus(corpus, files=max(1, chunks // 20), chunks_per_file=20)
    settings = settings_for(work / "data-mem", url, key)
    began = time.perf_counter()
    alone = asyncio.run(
        ingest_paths(
            [corpus],
            settings=settings,
            store=MemoryStore(),  # type: ignore[arg-type]
            embedder=InstantEmbedder(),
        )
    )
    wall = time.perf_counter() - began
    print(
        f"[pipeline alone] walk+load+chunk+batch, instant embedder, in-memory store: "
        f"{alone.chunks:,} chunks in {wall:.2f} s = {alone.chunks / wall:,.0f} chunks/s"
    )
    store = MemoryStore()
    fake_before, ours_before = cpu_seconds(fake_pid), time.process_time()
    began = time.perf_counter()
    report = asyncio.run(
        ingest_paths([corpus], settings=settings, store=store)  # type: ignore[arg-type]
    )
    wall = time.perf_counter() - began
    ours, fake = time.process_time() - ours_before, cpu_seconds(fake_pid) - fake_before
    print(f"[our side] {report.chunks:,} chunks from {len(report.added):,} files in {wall:.2f} s")
    print(f"  throughput          {report.chunks / wall:,.0f} chunks/s (in-memory store)")
    print(f"  CPU, this process   {ours:.2f} s  ({report.chunks / max(ours, 1e-9):,.0f} chunks/s)")
    print(f"  CPU, fake Jina      {fake:.2f} s  (embedding + JSON, in its own process)")
    print(
        f"  split of CPU        ours {ours / (ours + fake):.0%} / fake {fake / (ours + fake):.0%}"
    )


def bench_milvus(work: Path, url: str, key: str, chunks: int, *, bm25_only: bool = False) -> None:
    from chat_tui.retrieval.milvus_server import (
        ensure_local_server,
        running_local_server,
        stop_local_server,
    )

    corpus = work / "throughput"
    # BM25 only: no embedding settings, as a user without a key ingests.
    settings = settings_for(work / "data-milvus", "" if bm25_only else url, key)
    dims = "BM25 only" if bm25_only else "1024-d"
    started = time.perf_counter()
    ensure_local_server(settings.knowledge_dir, idle_seconds=300)
    print(f"[milvus lite] server start {time.perf_counter() - started:.2f} s")
    server = running_local_server(settings.knowledge_dir)
    assert server is not None
    try:
        server_before, ours_before = cpu_seconds(server.pid), time.process_time()
        began = time.perf_counter()
        report = asyncio.run(ingest_paths([corpus], settings=settings))
        wall = time.perf_counter() - began
        print(
            f"  {report.chunks:,} chunks, {len(report.added):,} files, {dims}: {wall:.2f} s "
            f"= {report.chunks / wall:,.0f} chunks/s, {len(report.added) / wall:.1f} files/s"
        )
        print(
            f"  CPU: this process {time.process_time() - ours_before:.1f} s, "
            f"Milvus Lite server {cpu_seconds(server.pid) - server_before:.1f} s "
            "(one writer: concurrent flushes fail in Milvus Lite)"
        )
        began = time.perf_counter()
        hits = asyncio.run(search_once(settings))
        print(f"  first hybrid search after the ingest: {time.perf_counter() - began:.2f} s")
        if hits == 0:
            print("  WARNING: the search found nothing")
    finally:
        stop_local_server(settings.knowledge_dir)


async def search_once(settings: Settings) -> int:
    """One hybrid search, as a chat turn makes it (shows whether the rows were flushed)."""
    from chat_tui.retrieval.milvus_store import KnowledgeStore

    store = KnowledgeStore(settings)
    try:
        vector = [1.0] + [0.0] * 1023
        found = await asyncio.to_thread(store.search_hybrid, "river lantern", vector, 5)
        return len(found)
    finally:
        store.close()


def bench_corpus(
    work: Path, corpus: Path, *, milvus: bool, profile: int, ours: bool = True
) -> None:
    """One real folder, BM25 only: in-memory store (unless not ``ours``), then
    (``milvus``) Milvus Lite."""
    settings = settings_for(work / f"data-{corpus.name}")
    if ours:
        bench_corpus_in_memory(corpus, settings, profile)
    if milvus:
        bench_corpus_milvus(corpus, settings)


def bench_corpus_in_memory(corpus: Path, settings: Settings, profile: int) -> None:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    profiles: list[Any] = []
    prepare = pipeline._prepare
    if profile:
        # Reading, parsing and chunking run in worker threads (cProfile sees one thread):
        # each call of the per-file step gets its own profiler, summed at the end.
        import cProfile

        def profiled(*args: Any) -> Any:
            profiler = cProfile.Profile()
            try:
                return profiler.runcall(prepare, *args)
            finally:
                profiles.append(profiler)

        pipeline._prepare = profiled
    began, cpu_before = time.perf_counter(), cpu_with_children()
    try:
        report = asyncio.run(
            ingest_paths(
                [corpus],
                settings=settings,
                store=MemoryStore(),  # type: ignore[arg-type]
                embedder=None,
            )
        )
    finally:
        pipeline._prepare = prepare
    wall, cpu = time.perf_counter() - began, cpu_with_children() - cpu_before
    print(
        f"[{corpus.name}] in-memory, BM25 only: {report.chunks:,} chunks from "
        f"{len(report.added):,} files ({len(report.skipped):,} skipped) in {wall:.2f} s = "
        f"{report.chunks / wall:,.0f} chunks/s; CPU {cpu:.2f} s = "
        f"{report.chunks / max(cpu, 1e-9):,.0f} chunks/CPU-s (load before {load})"
    )
    if profiles:
        import pstats

        stats = pstats.Stats(profiles[0])
        for profiler in profiles[1:]:
            stats.add(profiler)
        print("  per-file step (read, load, chunk), summed over the worker threads:")
        stats.sort_stats("cumulative").print_stats(profile)


def bench_corpus_milvus(corpus: Path, settings: Settings) -> None:
    from chat_tui.retrieval.milvus_server import (
        ensure_local_server,
        running_local_server,
        stop_local_server,
    )

    ensure_local_server(settings.knowledge_dir, idle_seconds=300)
    try:
        server = running_local_server(settings.knowledge_dir)
        assert server is not None
        load = " ".join(f"{value:.2f}" for value in os.getloadavg())
        # The supervisor and the C++ engine it runs (Milvus Lite 2.5) are separate processes.
        pids = [pid for pid in (server.pid, server.engine_pid) if pid is not None]
        server_before, cpu_before = sum(map(cpu_seconds, pids)), cpu_with_children()
        store = KnowledgeStore(settings)  # the pipeline's own, kept to read its counts
        began = time.perf_counter()
        try:
            report = asyncio.run(ingest_paths([corpus], settings=settings, store=store))
        finally:
            store.close()
        wall = time.perf_counter() - began
        ours = cpu_with_children() - cpu_before
        theirs = sum(map(cpu_seconds, pids)) - server_before
        inserter = getattr(store, "inserter", None)  # absent before milvus_columns
        paths = (
            f"; inserts column-wise {inserter.column_inserts}, as rows {inserter.row_inserts}"
            f" ({inserter.fallbacks} fallbacks)"
            if inserter is not None
            else ""
        )
        print(
            f"[{corpus.name}] Milvus Lite, BM25 only: {report.chunks:,} chunks in {wall:.2f} s "
            f"= {report.chunks / wall:,.0f} chunks/s; CPU ours {ours:.2f} s + server "
            f"{theirs:.2f} s = {report.chunks / max(ours + theirs, 1e-9):,.0f} chunks/CPU-s "
            f"(load before {load}){paths}"
        )
    finally:
        stop_local_server(settings.knowledge_dir)


def bench_reingest(work: Path, files: int) -> None:
    from chat_tui.retrieval.milvus_server import ensure_local_server, stop_local_server

    corpus = work / "many"
    corpus.mkdir()
    for number in range(files):
        (corpus / f"note{number:05d}.md").write_text(
            f"# Note {number}\n\nThe {WORDS[number % len(WORDS)]} note number {number}.\n",
            encoding="utf-8",
        )
    settings = settings_for(work / "data-reingest")
    ensure_local_server(settings.knowledge_dir, idle_seconds=300)
    try:
        began = time.perf_counter()
        first = asyncio.run(ingest_paths([corpus], settings=settings))
        initial = time.perf_counter() - began
        print(
            f"[re-ingest] initial ingest of {len(first.added):,} files (BM25 only): "
            f"{initial:.1f} s "
            f"= {len(first.added) / initial:.1f} files/s (batched replace_files, one flush)"
        )
        for attempt in (1, 2):
            began = time.perf_counter()
            again = asyncio.run(ingest_paths([corpus], settings=settings))
            elapsed = time.perf_counter() - began
            verdict = "OK" if elapsed < 3 else "OVER TARGET"
            print(
                f"  re-ingest #{attempt}: {len(again.unchanged):,} unchanged, "
                f"{again.embedded} embedded, {elapsed:.2f} s (target < 3 s: {verdict})"
            )
    finally:
        stop_local_server(settings.knowledge_dir)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--skip-milvus", action="store_true", help="only the in-memory run")
    parser.add_argument("--analyzer", choices=("jieba", "english", "standard"), default="jieba")
    parser.add_argument("--flush-chunks", type=int, default=None, help="flush every N chunks")
    parser.add_argument("--skip-reingest", action="store_true")
    parser.add_argument("--skip-ours", action="store_true", help="no in-memory runs")
    parser.add_argument("--bm25-only", action="store_true", help="Milvus run without vectors")
    parser.add_argument(
        "--corpus",
        action="append",
        type=Path,
        default=[],
        help="a real folder to ingest BM25-only instead of the synthetic runs (repeatable)",
    )
    parser.add_argument("--profile", type=int, default=0, help="with --corpus: top N of cProfile")
    options = parser.parse_args()
    if options.corpus:
        work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
        try:
            for corpus in options.corpus:
                bench_corpus(
                    work,
                    corpus,
                    milvus=not options.skip_milvus,
                    profile=options.profile,
                    ours=not options.skip_ours,
                )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    if options.analyzer != "jieba":
        from chat_tui.retrieval import milvus_schema

        milvus_schema.ANALYZERS["jieba"] = milvus_schema.ANALYZERS[options.analyzer]
    if options.flush_chunks is not None:
        pipeline.FLUSH_CHUNKS = options.flush_chunks
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    fake, url, key = start_fake()
    try:
        if options.skip_ours:
            corpus = work / "throughput"
            write_corpus(corpus, files=max(1, options.chunks // 20), chunks_per_file=20)
        else:
            bench_our_side(work, url, key, fake.pid, options.chunks)
        if not options.skip_milvus:
            bench_milvus(work, url, key, options.chunks, bm25_only=options.bm25_only)
            if not options.skip_reingest:
                bench_reingest(work, options.files)
    finally:
        if fake.stdin:
            fake.stdin.close()
        fake.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
