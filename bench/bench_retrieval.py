"""Retrieval latency of the knowledge base at 10k and 100k chunks (BM25, dense, hybrid).

Runs against the real local Milvus Lite server that chat-tui uses (a separate
process), through ``KnowledgeStore``, so the figures include the registry check
every search does. The embedding call is excluded: vectors are random unit
vectors. Prints ingest time, p50/p95 per search kind and the peak RSS of this
(client) process and of the server process.

    python bench/bench_retrieval.py                 # 10k and 100k (the latter takes minutes)
    python bench/bench_retrieval.py --sizes 10000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stall_meter import StallMeter  # noqa: E402

from chat_tui.config import EmbeddingSettings, ProviderSettings, Settings  # noqa: E402
from chat_tui.retrieval.milvus_server import (
    LocalServer,
    ensure_local_server,
    running_local_server,
    stop_local_server,
)  # noqa: E402
from chat_tui.retrieval.milvus_store import KnowledgeStore  # noqa: E402
from chat_tui.retrieval.types import Chunk  # noqa: E402


def vocabulary(size: int, rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(size)]


def unit_vectors(count: int, dim: int, seed: int) -> list[list[float]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    block = rng.standard_normal((count, dim), dtype=np.float32)
    block /= np.linalg.norm(block, axis=1, keepdims=True)
    return block.tolist()  # type: ignore[no-any-return]


def server_rss_mb(server: LocalServer) -> float:
    """Resident memory of the engine that serves the data (the supervisor's child)."""
    pid = server.engine_pid or server.pid
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def server_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_for_index(store: KnowledgeStore, timeout: float) -> float:
    client = store.connection.client()
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        pending = 0
        for field in ("sparse", "dense") if store.dense_dim else ("sparse",):
            info = client.describe_index(store.collection, field)
            pending += int(info.get("pending_index_rows", 0) or 0)
        if pending == 0:
            break
        time.sleep(1.0)
    return time.monotonic() - started


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def run_size(settings: Settings, size: int, args: argparse.Namespace) -> None:
    rng = random.Random(size)
    words = vocabulary(20_000, rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf-like, as in real text
    dim = args.dim or None
    store = KnowledgeStore(settings, f"bench_{size}", dense_dim=dim)
    store.drop()
    store = KnowledgeStore(settings, f"bench_{size}", dense_dim=dim)
    store.ensure()
    started = time.monotonic()
    per_file = args.chunks_per_file
    for file_no in range(size // per_file):
        source = f"/bench/file{file_no}.md"
        texts = [" ".join(rng.choices(words, weights, k=60)) for _ in range(per_file)]
        chunks = [
            Chunk(
                id=f"{file_no}-{i}",
                source=source,
                text=t,
                index=i,
                line_start=i * 10 + 1,
                line_end=i * 10 + 9,
            )
            for i, t in enumerate(texts)
        ]
        vectors = unit_vectors(per_file, args.dim, file_no) if dim else None
        store.replace_files([(source, f"hash{file_no}", chunks, vectors)], flush=False)
    store.flush()
    ingest = time.monotonic() - started
    index_wait = wait_for_index(store, args.index_timeout)
    print(
        f"\n{size:,} chunks: ingest {ingest:.1f} s ({size / ingest:,.0f} chunks/s), "
        f"index wait {index_wait:.1f} s"
    )

    queries = [" ".join(rng.choices(words[:3000], k=3)) for _ in range(args.queries)]
    vectors = unit_vectors(args.queries, args.dim or 2, 10_000_000 + size)
    kinds = {"bm25": lambda i: store.search_bm25(queries[i], args.top_k)}
    if dim:
        kinds["dense"] = lambda i: store.search_dense(vectors[i], args.top_k)
        kinds["hybrid"] = lambda i: store.search_hybrid(
            queries[i], vectors[i], args.top_k, args.candidates
        )
    for name, search in kinds.items():
        for i in range(min(10, args.queries)):
            search(i)  # warm up
        samples, empty = [], 0
        for i in range(args.queries):
            t0 = time.perf_counter()
            found = search(i)
            samples.append(time.perf_counter() - t0)
            empty += not found
        p50, p95 = percentiles(samples)
        print(
            f"  {name:7s} top-{args.top_k}: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
            f"({args.queries} queries, {empty} empty)"
        )
    server = running_local_server(settings.knowledge_dir)
    if server is not None:
        print(f"  server RSS after the searches: {server_rss_mb(server):,.0f} MB")
    store.close()
    # Reopening: the server stopped (as after its idle exit), then the first search.
    stop_local_server(settings.knowledge_dir)
    t0 = time.perf_counter()
    reopened = KnowledgeStore(settings, f"bench_{size}")
    reopened.search_bm25(queries[0], args.top_k)
    print(f"  reopen (server start + load + first search): {time.perf_counter() - t0:.2f} s")
    reopened.close()
    stall, took = asyncio.run(loop_stall(settings, f"bench_{size}", queries[:50], args.top_k))
    print(
        f"  event loop while the app's Retriever runs 50 BM25 retrievals ({took:.1f} s): "
        f"longest stall {stall:.1f} ms (target: none over 50 ms)"
    )


async def loop_stall(
    settings: Settings, knowledge_base: str, queries: list[str], top_k: int
) -> tuple[float, float]:
    """The longest event-loop stall while retrieving as the app does (store in threads)."""
    from chat_tui.retrieval.retriever import Retriever

    retriever = Retriever(settings, embedder=None)
    await retriever.retrieve(queries[0], knowledge_base, top_k)  # open and load first
    async with StallMeter() as meter:
        started = time.perf_counter()
        for question in queries:
            await retriever.retrieve(question, knowledge_base, top_k)
        took = time.perf_counter() - started
    await retriever.aclose()
    return meter.longest_ms, took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated chunk counts")
    parser.add_argument("--dim", type=int, default=1024, help="0: BM25 only")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--chunks-per-file", type=int, default=200)
    parser.add_argument("--index-timeout", type=float, default=900.0)
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="keep the db here (default: a temp dir)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="chat-tui-bench-"))
    provider = ProviderSettings(name="openai", base_url="http://127.0.0.1:9/v1", model="bench")
    settings = replace(
        Settings(provider=provider, providers={"openai": provider}, data_dir=data_dir),
        embedding=EmbeddingSettings(provider="none"),
    )
    started = time.monotonic()
    ensure_local_server(settings.knowledge_dir)
    print(f"local Milvus Lite server up in {time.monotonic() - started:.1f} s (data: {data_dir})")
    try:
        for size in sizes:
            run_size(settings, size, args)
        server = running_local_server(settings.knowledge_dir)
        client_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        server_mb = server_peak_rss_mb(server.engine_pid or server.pid) if server else float("nan")
        print(f"\npeak RSS: client {client_mb:,.0f} MB, server {server_mb:,.0f} MB")
    finally:
        if args.data_dir is None:
            stop_local_server(settings.knowledge_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
