"""Start-up of the local Milvus Lite server, from "none running" to a first BM25 answer.

Issue 9 point 6 wants the server to start in under 1 s. This bench makes a knowledge
base (the default ``jieba`` analyzer, a few English and Chinese chunks), stops its
server, then, run after run, times in this process (pymilvus already imported, so its
import is not counted):

- ``server answers``: ``ensure_local_server`` on a stopped server until it returns the
  uri (the supervisor process started, the engine binary up and accepting);
- ``first search``: then a ``KnowledgeStore`` BM25 search (connect, load the
  collection, the engine's first tokenization with jieba);
- ``second search``: one more search on the same store (the steady state).

Prints p50/p95 in ms per phase, with the load average. ``BENCH_ROOT`` names another
checkout to measure (its ``chat_tui`` and ``tests``), e.g. main's for a before/after:

    python bench/bench_lite_start.py [--runs 7]
    cd /work/main && BENCH_ROOT=/work/main .venv/bin/python /path/to/bench/bench_lite_start.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))

from chat_tui.config import Settings  # noqa: E402
from chat_tui.retrieval.milvus_server import ensure_local_server, stop_local_server  # noqa: E402
from chat_tui.retrieval.milvus_store import KnowledgeStore  # noqa: E402
from chat_tui.retrieval.types import Chunk  # noqa: E402
from tests.unit.retrieval.conftest import base_settings  # noqa: E402

TEXTS = [
    "Wombats dig burrows with their strong claws and sleep there by day.",
    "Install the package with pip and run it in a terminal.",
    "使用 pip 安装向量数据库，然后启动服务器。",
    "红烧肉的做法：先把五花肉切块，再加入酱油和冰糖。",
]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def make_kb(settings: Settings) -> None:
    store = KnowledgeStore(settings, "bench")
    try:
        store.ensure()
        chunks = [
            Chunk(id=f"w.md#{i}", source="w.md", text=text, index=i) for i, text in enumerate(TEXTS)
        ]
        store.replace_file("w.md", "hash", chunks, None)
    finally:
        store.close()


def one_run(settings: Settings) -> tuple[float, float, float]:
    stop_local_server(settings.knowledge_dir)
    start = time.perf_counter()
    ensure_local_server(settings.knowledge_dir)
    answered = time.perf_counter()
    store = KnowledgeStore(settings, "bench")
    try:
        assert store.search_bm25("wombats burrows", 3), "the first search found nothing"
        first = time.perf_counter()
        assert store.search_bm25("install pip", 3), "the second search found nothing"
        second = time.perf_counter()
    finally:
        store.close()
    return answered - start, first - answered, second - first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--analyzer", default="jieba", help="jieba (default), english, standard")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = base_settings(Path(tmp) / "data")
        settings = replace(settings, retrieval=replace(settings.retrieval, analyzer=args.analyzer))
        try:
            make_kb(settings)
            runs = [one_run(settings) for _ in range(args.runs)]
        finally:
            stop_local_server(settings.knowledge_dir)
    print(f"load {os.getloadavg()[0]:.2f}, {args.runs} runs, {args.analyzer}, {sys.executable}")
    print(f"{'phase':<20}{'p50 ms':>8}{'p95 ms':>8}")
    for name, values in zip(
        ("server answers", "first search", "second search"), zip(*runs, strict=True), strict=True
    ):
        ms = [v * 1000 for v in values]
        print(f"{name:<20}{statistics.median(ms):>8.0f}{p95(ms):>8.0f}")


if __name__ == "__main__":
    main()
