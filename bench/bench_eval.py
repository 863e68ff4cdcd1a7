"""Retrieval quality on real documents: recall@5 of the right file and MRR, per language and mode.

Why: ranking changes (analyzers, HTML extraction, dedup, fusion) must be chosen by
measurement on documents nobody here wrote. Each corpus (a Debian package unpacked under
``--corpora``) is ingested through chat-tui's real pipeline (``ingest_paths``) into a real
Milvus Lite file in a temporary data dir, with a deterministic stand-in embedder served
over HTTP on 127.0.0.1 in Jina's API (``tests/support/fake_jina.py``: hashed words and CJK
bigrams, L2-normalised; weak but real). Every question of ``bench/eval/questions_*.toml``
is then asked through the real ``Retriever``:

* ``bm25``: the retriever without an embedder (what a user without keys gets);
* ``dense``: the store's dense search with the embedder's query vector (the retriever has
  no dense-only path);
* ``hybrid``: the retriever with the embedder (``[retrieval] fusion = "weighted"`` when
  that setting exists, else the store's built-in fusion);
* ``rrf``: as hybrid with ``fusion = "rrf"`` (the same as hybrid until the setting exists).

    python bench/bench_eval.py --corpora /work/corpora --quick
    python bench/bench_eval.py --corpora /work/corpora --modes bm25,hybrid --misses
    python bench/bench_eval.py --corpora /work/corpora --sweep
    python bench/bench_eval.py --corpora /work/corpora --heldout --modes bm25,hybrid
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import re
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from chat_tui.config import RetrievalSettings, Settings, load_settings  # noqa: E402

EVAL_DIR = Path(__file__).resolve().parent / "eval"
TOP_K = 5
DIMENSIONS = 256
MODES = ("bm25", "dense", "hybrid", "rrf")
#: Whole-book renderings of a manual: Debian ships each manual as HTML chapters and again
#: as one text or PDF file, python3-doc ships Python's docs again as one GNU info file.
#: A passage from one answers the question as well as the chapter does when it holds the
#: question's key words, so it counts as right: the standard "answer-bearing passage"
#: judgement, limited to copies of the same manual.
BOOK_COPY = re.compile(
    r"(^|/)((debian-reference|debian-faq|maint-guide)\.[\w-]+\.(txt|pdf)(\.gz)?"
    r"|python3\.\d+\.info(-\d+)?\.gz)$"
)


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    corpus: str
    question: str
    files: tuple[str, ...]
    keywords: tuple[str, ...]
    quick: bool


@dataclass
class Score:
    """Ranks (1-based, 0 = not in the top ``TOP_K``) per question, and timings."""

    ranks: list[int] = field(default_factory=list)
    #: Questions whose first right passage came from a whole-book copy (``BOOK_COPY``).
    by_copy: int = 0
    seconds: list[float] = field(default_factory=list)
    misses: list[tuple[Question, str]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(1 for r in self.ranks if r) / max(1, len(self.ranks))

    @property
    def mrr(self) -> float:
        return sum(1 / r for r in self.ranks if r) / max(1, len(self.ranks))


def load_questions(*, unseen: bool, quick: bool, heldout: bool = False) -> list[Question]:
    """The questions of the seen (or unseen, or held-out) sets; ``quick`` keeps the quick
    subset.

    ``heldout`` sets (``heldout_*.toml``) were written after ``unseen_*.toml`` had been
    looked at while tuning: they stay unread until a change is final.
    """
    if heldout:
        names = ["heldout_en.toml", "heldout_zh.toml"]
    elif unseen:
        names = ["unseen_en.toml", "unseen_zh.toml"]
    else:
        names = ["questions_en.toml", "questions_zh.toml"]
    found: list[Question] = []
    for name in names:
        path = EVAL_DIR / name
        if not path.exists():
            continue
        lang = "zh" if name.endswith("_zh.toml") else "en"
        for row in tomllib.loads(path.read_text(encoding="utf-8")).get("question", []):
            question = Question(
                id=str(row["id"]),
                lang=lang,
                corpus=str(row["corpus"]),
                question=str(row["question"]),
                files=tuple(row["files"]),
                keywords=tuple(row.get("keywords", ())),
                quick=bool(row.get("quick", False)),
            )
            if question.quick or not quick:
                found.append(question)
    return found


def retrieval_keys() -> set[str]:
    return {f.name for f in dataclasses.fields(RetrievalSettings)}


def make_settings(data_dir: Path, url: str, key: str) -> Settings:
    config = data_dir / "config.toml"
    config.write_text(
        "[embedding]\n"
        'provider = "jina"\n'
        f'base_url = "{url}"\n'
        f"dimensions = {DIMENSIONS}\n"
        "batch_size = 64\n",
        encoding="utf-8",
    )
    return load_settings(config_file=config, env={"JINA_API_KEY": key}, data_dir=data_dir / "data")


def with_retrieval(settings: Settings, **values: Any) -> tuple[Settings, list[str]]:
    """``settings`` with the retrieval keys that exist set; the names that do not exist."""
    known = retrieval_keys()
    usable = {k: v for k, v in values.items() if k in known}
    absent = [k for k in values if k not in known]
    return dataclasses.replace(
        settings, retrieval=dataclasses.replace(settings.retrieval, **usable)
    ), absent


def relative(source: str, root: Path) -> str:
    try:
        return str(Path(source).resolve().relative_to(root.resolve()))
    except ValueError:
        return source


def is_right(question: Question, source: str, passage: Any) -> bool:
    """A right file, or a whole-book copy of the manual holding all the key words."""
    if source in question.files:
        return True
    if not question.keywords or not BOOK_COPY.search(source):
        return False
    text = passage.chunk.text.casefold()
    return all(word.casefold() in text for word in question.keywords)


async def ingest(settings: Settings, corpora: Path, corpus: str) -> float:
    from chat_tui.ingest.pipeline import ingest_paths

    began = time.monotonic()
    await ingest_paths([corpora / corpus], settings=settings, knowledge_base=kb_name(corpus))
    return time.monotonic() - began


def kb_name(corpus: str) -> str:
    return "eval_" + "".join(c if c.isalnum() else "_" for c in corpus)


async def ask(
    settings: Settings,
    mode: str,
    questions: Sequence[Question],
    corpora: Path,
    embedder_on: bool,
) -> Score:
    from chat_tui.retrieval.milvus_store import KnowledgeStore
    from chat_tui.retrieval.openai_embed import make_embedder
    from chat_tui.retrieval.retriever import Retriever

    score = Score()
    stores: dict[str, KnowledgeStore] = {}
    embedder = make_embedder(settings.embedding) if embedder_on else None
    retriever = Retriever(settings, embedder if mode != "bm25" else None)
    try:
        for question in questions:
            began = time.perf_counter()
            if mode == "dense":
                assert embedder is not None
                vector = await embedder.embed_query(question.question)
                store = stores.get(question.corpus)
                if store is None:
                    store = stores[question.corpus] = KnowledgeStore(
                        settings, kb_name(question.corpus)
                    )
                passages = await asyncio.to_thread(store.search_dense, vector, TOP_K)
            else:
                passages = await retriever.retrieve(
                    question.question, kb_name(question.corpus), TOP_K
                )
            score.seconds.append(time.perf_counter() - began)
            root = corpora / question.corpus
            shown = [relative(p.chunk.source, root) for p in passages]
            rank = next(
                (i for i, p in enumerate(passages, 1) if is_right(question, shown[i - 1], p)), 0
            )
            score.ranks.append(rank)
            score.by_copy += bool(rank) and shown[rank - 1] not in question.files
            if not rank:
                score.misses.append((question, shown[0] if shown else "(nothing)"))
    finally:
        for store in stores.values():
            await asyncio.to_thread(store.close)
        await retriever.aclose()
    return score


def report(label: str, scores: dict[tuple[str, str], Score], misses: bool) -> None:
    print(f"\n{label}")
    print(
        f"  {'lang':4s} {'mode':7s} {'n':>3s} {'recall@5':>8s} {'MRR':>6s} {'p50 ms':>7s}"
        f" {'by copy':>7s}"
    )
    for (lang, mode), score in sorted(scores.items()):
        p50 = statistics.median(score.seconds) * 1000 if score.seconds else 0.0
        print(
            f"  {lang:4s} {mode:7s} {len(score.ranks):3d} {score.recall:8.3f} "
            f"{score.mrr:6.3f} {p50:7.1f} {score.by_copy:7d}"
        )
    if misses:
        for (lang, mode), score in sorted(scores.items()):
            for question, first in score.misses:
                print(
                    f"  miss {lang}/{mode} {question.id}: {question.question!r} -> first: {first}"
                )


async def evaluate(
    corpora: Path,
    questions: Sequence[Question],
    modes: Sequence[str],
    data_dir: Path,
    url: str,
    key: str,
    *,
    quiet: bool = False,
    analyzer: str = "",
) -> tuple[Settings, dict[tuple[str, str], Score], list[str]]:
    """Ingest the questions' corpora into ``data_dir`` and score every mode per language.

    Returns the settings used, the scores and notes (settings that do not exist yet).
    The caller stops the local Milvus Lite server (``settings.knowledge_dir``).
    """
    settings = make_settings(data_dir, url, key)
    if analyzer:  # the BM25 analyzer the knowledge bases are created with
        settings, _ = with_retrieval(settings, analyzer=analyzer)
    for corpus in sorted({q.corpus for q in questions}):
        took = await ingest(settings, corpora, corpus)
        if not quiet:
            print(f"ingested {corpus}: {took:.1f} s")
    base, absent = with_retrieval(settings, fusion="weighted")
    variants: dict[str, Settings] = {"bm25": base, "dense": base, "hybrid": base}
    variants["rrf"], _ = with_retrieval(settings, fusion="rrf")
    notes = []
    if absent:
        notes.append(
            "[retrieval] fusion is not a setting yet: hybrid and rrf both use the store's "
            "built-in fusion"
        )
    scores: dict[tuple[str, str], Score] = {}
    for mode in modes:
        for lang in sorted({q.lang for q in questions}):
            asked = [q for q in questions if q.lang == lang]
            scores[(lang, mode)] = await ask(variants[mode], mode, asked, corpora, True)
    return settings, scores, notes


async def run(args: argparse.Namespace) -> int:
    from chat_tui.retrieval.milvus_server import stop_local_server
    from tests.support.fake_jina import FakeJina

    corpora = Path(args.corpora)
    questions = load_questions(unseen=args.unseen, quick=args.quick, heldout=args.heldout)
    questions = [q for q in questions if (corpora / q.corpus).is_dir()]
    if args.corpus:  # e.g. only the man pages while tuning the Chinese analyzer
        wanted = {c.strip() for c in args.corpus.split(",") if c.strip()}
        questions = [q for q in questions if q.corpus in wanted]
    if not questions:
        print(f"no questions whose corpus is under {corpora}", file=sys.stderr)
        return 2
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        print(f"unknown modes: {', '.join(unknown)} (known: {', '.join(MODES)})", file=sys.stderr)
        return 2
    if args.embedder != "fake":
        print("only --embedder fake is available in this version", file=sys.stderr)
        return 2
    with (
        tempfile.TemporaryDirectory(prefix="chat-tui-eval-", dir=args.data_dir) as tmp,
        FakeJina() as fake,
    ):
        data_dir = Path(tmp)
        began = time.monotonic()
        try:
            settings, scores, notes = await evaluate(
                corpora, questions, modes, data_dir, fake.url, fake.api_key, analyzer=args.analyzer
            )
            for note in notes:
                print(f"note: {note}")
            which = (
                "held-out"
                if args.heldout
                else "unseen"
                if args.unseen
                else ("quick" if args.quick else "full")
            )
            report(
                f"{which} set, top {TOP_K}, fake embedder ({DIMENSIONS}-d), ingest and "
                f"questions in {time.monotonic() - began:.1f} s",
                scores,
                args.misses,
            )
            if args.sweep:
                await sweep(settings, questions, corpora)
        finally:
            stop_local_server(make_settings(data_dir, fake.url, fake.api_key).knowledge_dir)
    return 0


async def sweep(settings: Settings, questions: Sequence[Question], corpora: Path) -> None:
    print("\nsweep: hybrid recall@5 / MRR per fusion k and dense weight")
    for k in (10, 30, 60):
        for weight in (0.1, 0.3, 0.5, 1.0):
            tuned, absent = with_retrieval(settings, rrf_k=k, dense_weight=weight)
            if absent:
                print(f"  not run: {', '.join(absent)} not settings yet")
                return
            cells = []
            for lang in sorted({q.lang for q in questions}):
                score = await ask(
                    tuned, "hybrid", [q for q in questions if q.lang == lang], corpora, True
                )
                cells.append(f"{lang} {score.recall:.3f}/{score.mrr:.3f}")
            print(f"  k={k:2d} w={weight:.1f}: " + "  ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="/work/corpora")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--quick", action="store_true", help="the quick subset (debian-reference)")
    parser.add_argument("--unseen", action="store_true", help="the held-out sets")
    parser.add_argument(
        "--heldout", action="store_true", help="the held-out sets written after the unseen ones"
    )
    parser.add_argument("--misses", action="store_true", help="list missed questions")
    parser.add_argument("--corpus", default="", help="only these corpora (comma-separated)")
    parser.add_argument("--sweep", action="store_true", help="fusion k x dense weight")
    parser.add_argument("--embedder", default="fake", choices=("fake", "minilm"))
    parser.add_argument(
        "--analyzer",
        default="",
        choices=("", "jieba", "english", "standard"),
        help="BM25 analyzer of the knowledge bases (default: the settings')",
    )
    parser.add_argument("--data-dir", default=None, help="where the temporary data dir goes")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
