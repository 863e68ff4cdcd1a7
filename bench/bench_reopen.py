"""Reopening a knowledge base: a fresh process's first BM25 search, cold and warm.

Issue 9 wants reopening under 2 s. Each run is a new Python process (as ``chat-tui kb
search`` or the TUI's first turn is) that opens a ``KnowledgeStore`` and searches once:

- cold: the local Milvus Lite server was stopped before (the process starts it, and
  imports pymilvus meanwhile);
- warm: the server is running (another chat-tui process started it).

The knowledge base is made first from a generated Markdown corpus (BM25 only), in a
temporary data dir removed at the end. Prints p50/p95 in seconds.

    python bench/bench_reopen.py [--runs 5] [--chunks 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_ingest import settings_for, write_corpus  # noqa: E402

from chat_tui.ingest.pipeline import ingest_paths  # noqa: E402
from chat_tui.retrieval.milvus_server import stop_local_server  # noqa: E402

SEARCH = """
import sys, time
sys.path.insert(0, {repo!r})
sys.path.insert(0, {bench!r})
from pathlib import Path
from bench_ingest import settings_for
from chat_tui.retrieval.milvus_store import KnowledgeStore
began = time.perf_counter()
store = KnowledgeStore(settings_for(Path({data!r})), "default")
found = store.search_bm25("river lantern", 5)
print(time.perf_counter() - began, len(found))
store.close()
"""


def first_search(data: Path) -> float:
    code = SEARCH.format(repo=str(REPO), bench=str(REPO / "bench"), data=str(data))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, found = out.stdout.split()
    if int(found) == 0:
        raise SystemExit("the search found nothing")
    return float(seconds)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chunks", type=int, default=5000)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-reopen-"))
    data = work / "data"
    settings = settings_for(data)
    try:
        write_corpus(work / "corpus", files=max(1, options.chunks // 20), chunks_per_file=20)
        report = asyncio.run(ingest_paths([work / "corpus"], settings=settings))
        print(f"{report.chunks:,} chunks (BM25 only), {options.runs} runs each")
        cold, warm = [], []
        for _ in range(options.runs):
            stop_local_server(settings.knowledge_dir)
            cold.append(first_search(data))
            warm.append(first_search(data))
        for name, values in (("cold (server stopped)", cold), ("warm (server running)", warm)):
            print(f"  {name:<22} p50 {statistics.median(values):.2f} s  p95 {p95(values):.2f} s")
    finally:
        stop_local_server(settings.knowledge_dir)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
