"""Milvus Lite versions side by side on real chunks: ingest, search latency, RSS, disk, reopen.

Why: the store was the knowledge base's bottleneck (issue 9, point 5) and the choice
between milvus-lite 3.2.x (pure Python) and 2.5.x (C++ Milvus) must be made on figures.
Two steps, so each milvus-lite version can run from its own venv:

    # 1. real chunks (chat-tui's loaders + chunker; repeated to reach N), with chat-tui's venv
    .venv/bin/python bench/bench_store.py dump /tmp/chunks.jsonl 20000
    # 2. one engine run per venv (needs only pymilvus + that milvus-lite; no chat_tui import)
    .venv/bin/python bench/bench_store.py run /tmp/chunks.jsonl --dim 0      # BM25 only
    /tmp/ml251/bin/python bench/bench_store.py run /tmp/chunks.jsonl --dim 256
    # which BM25 analyzers (stemming, stopwords, jieba + filters) each version really applies
    /tmp/ml251/bin/python bench/bench_store.py analyzers

Float16 for the dense field (``--vector float16``), measured on 100k real chunks x 1024
dims (milvus-lite 2.5.1, 2 shared cores, load 5.7-7.6), against float32 (AUTOINDEX):
server RSS 686 vs 826 MB, disk 513 vs 763 MB, ingest 1216 vs 845 chunks/s, but dense
p50 1277 vs 4.0 ms and hybrid 1257 vs 6.4 ms (20k: dense 202 vs 14.7 ms): local mode
builds only FLAT for FLOAT16_VECTOR, and its float16 FLAT search is 300x slower than
the float32 index. Rankings do not move (``bench_eval.py --quick --modes dense,hybrid``
gave the same recall@5 and MRR, en and zh, with both types), but the latency target
(30 ms) does not hold, so knowledge bases keep float32.

Vectors come from a deterministic local stand-in embedder (hashed words -> 256-d),
so dense and hybrid searches do real work without a network. Hybrid = both searches
plus weighted RRF (k=10, dense 0.1) on the client, as chat-tui does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: Where the Debian packages' documents were unpacked (``--corpora`` changes it).
CORPORA_HOME = Path.home() / ".cache" / "chat-tui-corpora"
CORPORA = [
    "python3.11-doc/usr/share/doc/python3.11/html",
    "git-doc",
    "debian-reference-en",
]
QUERIES = [
    "how do I read a file line by line",
    "git rebase interactive squash commits",
    "configure network interface debian",
    "asyncio event loop run until complete",
    "regular expression named group",
    "apt pinning preferences",
    "git bisect find bad commit",
    "subprocess capture output",
    "dataclass frozen field default",
    "systemd service unit file",
]


def dump(out: Path, count: int, corpora: Path = CORPORA_HOME) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from chat_tui.ingest.chunking import chunk_document
    from chat_tui.ingest.loaders import loader_for

    rows: list[dict[str, Any]] = []
    for root in (corpora / name for name in CORPORA):
        if not root.is_dir():
            raise SystemExit(f"no corpus at {root} (see --corpora)")
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            found = loader_for(path)
            if found is None or path.stat().st_size > 2_000_000:
                continue
            loader, language = found
            try:
                document = loader(path.read_bytes(), language)
                chunks = chunk_document(document, source=str(path), file_hash="h")
            except Exception:  # noqa: BLE001 - a bench skips what the loaders refuse
                continue
            rows += [
                {"source": c.source, "text": c.text, "heading": c.heading, "idx": c.index}
                for c in chunks
            ]
    print(f"{len(rows)} real chunks", file=sys.stderr)
    with out.open("w", encoding="utf-8") as f:
        for i in range(count):
            row = dict(rows[i % len(rows)], copy=i // len(rows))
            f.write(json.dumps(row) + "\n")


def embed(text: str, dim: int) -> list[float]:
    """A deterministic stand-in embedder: hashed lowercase words, L2-normalised."""
    vector = [0.0] * dim
    for word in text.lower().split():
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dim
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def tree_rss_mb(pid: int, key: str = "VmRSS:") -> float:
    """RSS of ``pid`` and its descendants (Linux /proc); ``VmHWM:`` for the peaks."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith(key):
                    total += int(line.split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return total / 1024


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


#: ``--vector``: the dense field's type and the numpy dtype its rows are sent as.
VECTOR_TYPES = {"float32": "FLOAT_VECTOR", "float16": "FLOAT16_VECTOR"}


def as_vector(values: list[float], vector: str) -> Any:
    """``values`` as a numpy array of the dense field's type (lists of Python floats
    would hold 100k x 1024 vectors in 3 GB of client memory)."""
    import numpy as np

    return np.asarray(values, dtype=np.float16 if vector == "float16" else np.float32)


def create(client: Any, dim: int, vector: str = "float32") -> None:
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("source", DataType.VARCHAR, max_length=4096)
    analyzer = {"tokenizer": "standard", "filter": ["lowercase"]}
    schema.add_field(
        "text", DataType.VARCHAR, max_length=65535, enable_analyzer=True, analyzer_params=analyzer
    )
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    index = client.prepare_index_params()
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    if dim:
        schema.add_field("dense", getattr(DataType, VECTOR_TYPES[vector]), dim=dim)
        # Milvus Lite 2.5.1 local mode builds only FLAT for FLOAT16_VECTOR.
        index_type = "AUTOINDEX" if vector == "float32" else "FLAT"
        index.add_index(field_name="dense", index_type=index_type, metric_type="COSINE")
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    client.create_collection("chunks", schema=schema, index_params=index)


def stand_in_vectors(
    chunks_file: Path, rows: list[dict[str, Any]], dim: int, vector: str
) -> list[Any]:
    """The stand-in embedder's vectors of ``rows``, kept beside ``chunks_file`` (``.npy``):
    100k x 1024 take minutes of pure Python, the same for every run of one file."""
    import numpy as np

    cached = chunks_file.with_suffix(f".{dim}.npy")
    if cached.exists():
        matrix = np.load(cached)
    else:
        matrix = np.asarray([embed(row["text"], dim) for row in rows], dtype=np.float32)
        np.save(cached, matrix)
    return [as_vector(list(row), vector) if vector != "float32" else row for row in matrix]


def fuse_ids(bm25: list[str], dense: list[str], limit: int) -> list[str]:
    scores: dict[str, float] = {}
    for weight, ids in ((1.0, bm25), (0.1, dense)):
        for rank, key in enumerate(ids, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (10 + rank)
    return sorted(scores, key=lambda k: -scores[k])[:limit]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{statistics.median(ordered):.1f}/{p95:.1f}"


def server_and_client_rss_mb() -> tuple[float, float]:
    """``(engine children, this process)`` RSS: milvus-lite 2.5 serves from a child."""
    me = os.getpid()
    children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
    server = sum(tree_rss_mb(int(c)) for c in children)
    return server, tree_rss_mb(me) - server


def server_peak_rss_mb() -> float:
    """The engine children's peak RSS (ingest included)."""
    me = os.getpid()
    children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
    return sum(tree_rss_mb(int(c), "VmHWM:") for c in children)


class PeakSampler:
    """The engine's largest RSS in each phase of a run (polled, ``--sample`` seconds).

    ``VmHWM`` says how high the engine went overall, not when: the phase whose peak is
    the run's peak (insert, flush, index, load, search) is what to change.
    """

    def __init__(self, every: float) -> None:
        import threading

        self.every = every
        self.phase = "insert"
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def sample(self) -> None:
        server, _ = server_and_client_rss_mb()
        self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), server)

    def enter(self, phase: str) -> None:
        self.sample()
        self.phase = phase
        self.sample()

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def summary(self) -> str:
        return " ".join(f"{phase} {mb:.0f}" for phase, mb in self.peaks.items())


def wait_for_index(client: Any, field: str, timeout: float = 1800.0) -> float:
    """Seconds until every row of ``field`` is indexed (Milvus builds in the background)."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        info = client.describe_index("chunks", field)
        if int(info.get("pending_index_rows", 0)) == 0 and int(info.get("indexed_rows", 0)) >= int(
            info.get("total_rows", 0)
        ):
            break
        time.sleep(0.5)  # polling the engine's own progress, not waiting for a guess
    return time.perf_counter() - began


def insert_columns(client: Any, uri: str, batches: list[list[dict[str, Any]]]) -> None:
    """``--columns``: the batches through the ORM's column-wise insert, as chat-tui's store
    sends big inserts (``chat_tui/retrieval/milvus_columns.py``)."""
    import warnings

    from pymilvus import Collection, connections

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        connections.connect(alias="bench_columns", uri=uri)
        collection = Collection("chunks", using="bench_columns")
        fields = [
            f.name for f in collection.schema.fields if not f.is_function_output
        ]
        for rows in batches:
            collection.insert([[row[name] for row in rows] for name in fields])
        connections.disconnect("bench_columns")


def run(
    chunks_file: Path,
    dim: int,
    keep: Path | None,
    vector: str = "float32",
    settle: float = 60.0,
    *,
    batch: int = 500,
    flush_every: int = 0,
    released: bool = False,
    columns: bool = False,
    sample: float = 0.25,
) -> None:
    """Ingest ``chunks_file``, then search, measure RSS, disk and a reopen.

    ``batch`` rows per insert request; ``flush_every`` rows between flushes (0: one
    flush at the end); ``released``: the collection is released during the ingest and
    its index build, loaded only for the searches; ``columns``: inserts go column-wise.
    """
    import milvus_lite  # noqa: F401 - the version is reported
    from pymilvus import MilvusClient

    version = getattr(milvus_lite, "__version__", "?")
    from importlib.metadata import version as dist_version

    version = dist_version("milvus-lite")
    rows = [json.loads(line) for line in chunks_file.open(encoding="utf-8")]
    folder = keep or Path(tempfile.mkdtemp(prefix="bench-store-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "kb.db"
    client = MilvusClient(str(db))
    create(client, dim, vector)
    # Vectors are made before the clock starts: ingest measures the store, not the
    # stand-in embedder (pure Python, slower than the store at 1024 dimensions).
    vectors = stand_in_vectors(chunks_file, rows, dim, vector) if dim else []
    if released:
        client.release_collection("chunks")
    timings: dict[str, list[float]] = {"bm25": [], "dense": [], "hybrid": []}
    phases: dict[str, float] = {}
    with PeakSampler(sample) as peaks:
        start = time.perf_counter()
        cpu_start = time.process_time()
        since_flush = 0
        pending: list[list[dict[str, Any]]] = []
        for offset in range(0, len(rows), batch):
            data = []
            for i, row in enumerate(rows[offset : offset + batch], start=offset):
                entry = {"id": str(i), "source": row["source"], "text": row["text"][:20000]}
                if dim:
                    entry["dense"] = vectors[i]
                data.append(entry)
            if columns:
                pending.append(data)
                if len(pending) * batch >= 20_000:
                    insert_columns(client, str(db), pending)
                    pending = []
            else:
                client.insert("chunks", data)
            since_flush += len(data)
            if flush_every and since_flush >= flush_every:
                if pending:
                    insert_columns(client, str(db), pending)
                    pending = []
                client.flush("chunks")
                since_flush = 0
        if pending:
            insert_columns(client, str(db), pending)
        phases["insert"] = time.perf_counter() - start
        peaks.enter("flush")
        began = time.perf_counter()
        client.flush("chunks")
        phases["flush"] = time.perf_counter() - began
        ingest = len(rows) / (time.perf_counter() - start)
        ingest_cpu = time.process_time() - cpu_start
        peaks.enter("index")
        phases["index"] = wait_for_index(client, "dense" if dim else "sparse")
        if released:
            peaks.enter("load")
            began = time.perf_counter()
            client.load_collection("chunks")
            phases["load"] = time.perf_counter() - began
        peaks.enter("search")
        search_queries(client, dim, vector, timings)
    server_rss, client_rss = server_and_client_rss_mb()
    server_peak = server_peak_rss_mb()
    client.close()
    try:  # milvus-lite 2.5: the server child holds the db until released
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_all()
    except ImportError:
        pass
    size_closed = disk_mb(folder)
    time.sleep(settle)  # does the database still grow once the writer is gone?
    size_later = disk_mb(folder)
    reopen_s = reopen(db)
    cells = [
        f"milvus-lite {version}",
        f"{len(rows)}",
        f"{dim or 'BM25'}" + (f" {vector}" if dim and vector != "float32" else ""),
        f"{batch}/{flush_every or '-'}" + (" released" if released else "")
        + (" columns" if columns else ""),
        f"{ingest:.0f} ({ingest_cpu:.1f} s CPU)",
        percentiles(timings["bm25"]),
        percentiles(timings["dense"]) if dim else "-",
        percentiles(timings["hybrid"]) if dim else "-",
        f"{server_rss:.0f} (peak {server_peak:.0f}) + {client_rss:.0f}",
        peaks.summary(),
        " ".join(f"{k} {v:.1f}" for k, v in phases.items()),
        f"{size_closed:.1f}->{size_later:.1f}",
        reopen_s,
    ]
    print(
        "| engine | chunks | dim | batch/flush every | ingest/s (client CPU) | bm25 p50/p95 "
        "| dense | hybrid | RSS MB server + client | server peak MB by phase | phases s "
        "| disk MB closed->later | reopen s |"
    )
    print("| " + " | ".join(cells) + " |", flush=True)
    if keep is None:
        shutil.rmtree(folder, ignore_errors=True)


def search_queries(client: Any, dim: int, vector: str, timings: dict[str, list[float]]) -> None:
    random.seed(1)
    for _ in range(3):
        for query in QUERIES:
            t = time.perf_counter()
            client.search(
                "chunks", [query], anns_field="sparse", limit=10, output_fields=["source"]
            )
            timings["bm25"].append((time.perf_counter() - t) * 1000)
            if not dim:
                continue
            t = time.perf_counter()
            client.search(
                "chunks",
                [as_vector(embed(query, dim), vector)],
                anns_field="dense",
                limit=10,
                output_fields=["source"],
            )
            timings["dense"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            b = client.search(
                "chunks", [query], anns_field="sparse", limit=10, output_fields=["source"]
            )
            d = client.search(
                "chunks", [as_vector(embed(query, dim), vector)], anns_field="dense", limit=10
            )
            fuse_ids([h["id"] for h in b[0]], [h["id"] for h in d[0]], 5)
            timings["hybrid"].append((time.perf_counter() - t) * 1000)


def reopen(db: Path) -> str:
    """Seconds a fresh process takes to its first BM25 result on ``db`` (import included)."""
    reopen_code = (
        "import time,sys;t=time.perf_counter();from pymilvus import MilvusClient;"
        f"c=MilvusClient({str(db)!r});c.load_collection('chunks');"
        "c.search('chunks',['git commit'],anns_field='sparse',limit=5);"
        "print(time.perf_counter()-t)"
    )
    result = subprocess.run(
        [sys.executable, "-c", reopen_code], capture_output=True, text=True, timeout=600
    )
    try:
        return f"{float(result.stdout.strip().splitlines()[-1]):.2f}"
    except (IndexError, ValueError):
        print(result.stderr.strip().splitlines()[-3:], file=sys.stderr)
        return "error"


ANALYZERS: dict[str, dict[str, Any]] = {
    "standard": {"tokenizer": "standard", "filter": ["lowercase"]},
    "english": {
        "tokenizer": "standard",
        "filter": [
            "lowercase",
            {"type": "stemmer", "language": "english"},
            {"type": "stop", "stop_words": ["_english_"]},
        ],
    },
    "jieba+english": {
        "tokenizer": "jieba",
        "filter": [
            "lowercase",
            {"type": "stemmer", "language": "english"},
            {"type": "stop", "stop_words": ["_english_"]},
        ],
    },
}
ANALYZER_DOCS = [
    "The runners were running quickly",
    "我们在北京学习 Python programming",
    "the a of",
]
ANALYZER_QUERIES = ["run", "RUNS", "北京", "program", "the"]


def analyzers() -> None:
    """Which analyzers this milvus-lite accepts and what they match (doc ids per query)."""
    from importlib.metadata import version as dist_version

    from pymilvus import DataType, Function, FunctionType, MilvusClient

    folder = Path(tempfile.mkdtemp(prefix="bench-analyzer-"))
    client = MilvusClient(str(folder / "a.db"))
    print(f"milvus-lite {dist_version('milvus-lite')}: docs {ANALYZER_DOCS}")
    for name, params in ANALYZERS.items():
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field(
            "text", DataType.VARCHAR, max_length=1000, enable_analyzer=True, analyzer_params=params
        )
        schema.add_field("sp", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="f",
                function_type=FunctionType.BM25,
                input_field_names=["text"],
                output_field_names=["sp"],
            )
        )
        index = client.prepare_index_params()
        index.add_index(field_name="sp", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        collection = name.replace("+", "_")
        try:
            client.create_collection(collection, schema=schema, index_params=index)
            client.insert(collection, [{"id": i, "text": t} for i, t in enumerate(ANALYZER_DOCS)])
            found = {
                q: [h["id"] for h in client.search(collection, [q], anns_field="sp", limit=3)[0]]
                for q in ANALYZER_QUERIES
            }
            print(f"  {name}: {found}")
        except Exception as error:  # noqa: BLE001 - reported, the probe goes on
            print(f"  {name}: refused ({' '.join(str(error).split())[:120]})")
    client.close()
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("count", type=int)
    d.add_argument("--corpora", type=Path, default=CORPORA_HOME, help="the unpacked documents")
    r = sub.add_parser("run")
    r.add_argument("chunks", type=Path)
    r.add_argument("--dim", type=int, default=0)
    r.add_argument("--keep", type=Path, default=None)
    r.add_argument("--vector", choices=sorted(VECTOR_TYPES), default="float32")
    r.add_argument("--settle", type=float, default=60.0, help="seconds before disk is re-read")
    r.add_argument("--batch", type=int, default=500, help="rows per insert request")
    r.add_argument("--flush-every", type=int, default=0, help="rows between flushes (0: end)")
    r.add_argument(
        "--released", action="store_true", help="collection released until the searches"
    )
    r.add_argument("--columns", action="store_true", help="column-wise inserts (the ORM's)")
    r.add_argument("--sample", type=float, default=0.25, help="seconds between RSS samples")
    sub.add_parser("analyzers")
    args = parser.parse_args()
    if args.command == "analyzers":
        analyzers()
    elif args.command == "dump":
        dump(args.out, args.count, args.corpora)
    else:
        run(
            args.chunks,
            args.dim,
            args.keep,
            args.vector,
            args.settle,
            batch=args.batch,
            flush_every=args.flush_every,
            released=args.released,
            columns=args.columns,
            sample=args.sample,
        )


if __name__ == "__main__":
    main()
