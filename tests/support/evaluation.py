"""Retrieval evaluation over real public documents (Debian's own manuals).

Shared by ``bench/bench_eval.py`` (the full sets, every mode, sweeps) and the CI test
``tests/unit/retrieval/test_eval_floor.py`` (the quick set, a floor). Everything is
the real thing: the documents come from Debian packages (``.ci/fetch-corpora``), they
go through chat-tui's own ingest pipeline into a real Milvus Lite file, vectors come
from the fake Jina server over HTTP (a weak but real dense model: hashed words and CJK
bigrams), and each question is searched through the store's own BM25, dense and
hybrid searches.

Scoring: recall@5 is the share of questions with a right file among the top 5
passages; MRR is the mean of 1/rank of the first passage from a right file (0 past 10).
"""

from __future__ import annotations

import asyncio
import functools
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from chat_tui.config import EmbeddingSettings, ProviderSettings, Settings
from chat_tui.ingest.pipeline import ingest_paths
from chat_tui.retrieval.milvus_store import KnowledgeStore
from chat_tui.retrieval.openai_embed import make_embedder
from chat_tui.retrieval.types import Passage

QUESTIONS = Path(__file__).resolve().parents[2] / "bench" / "eval"
DIMENSIONS = 256
#: The folders (under the corpora root) each language's knowledge base is built from.
CORPORA: dict[str, tuple[str, ...]] = {
    "en": (
        "debian-reference-en/usr/share/debian-reference",
        "debian-faq/usr/share/doc/debian/FAQ",
        "maint-guide/usr/share/doc/maint-guide/html",
        "git-doc/usr/share/doc/git-doc",
    ),
    "zh": (
        "debian-reference-zh-cn/usr/share/debian-reference",
        "debian-faq-zh-cn/usr/share/doc/debian/FAQ/zh-cn",
        "maint-guide-zh-cn/usr/share/doc/maint-guide-zh-cn/html",
    ),
}
#: The quick set's folders (the CI test): the reference manual and the FAQ.
QUICK_CORPORA: dict[str, tuple[str, ...]] = {
    "en": CORPORA["en"][:2],
    "zh": CORPORA["zh"][:2],
}
#: The held-out corpora, never used to tune anything: Python's HTML docs and the
#: Chinese man pages.
UNSEEN_CORPORA: dict[str, tuple[str, ...]] = {
    "en": ("python3.11-doc/usr/share/doc/python3.11/html",),
    "zh": ("manpages-zh/usr/share/man/zh_CN",),
}
MODES = ("bm25", "dense", "hybrid", "rrf")


@dataclass(frozen=True)
class Question:
    text: str
    files: tuple[str, ...]
    quick: bool = False


@dataclass
class Score:
    """How one mode did on one question set."""

    mode: str
    hits: int = 0
    reciprocal: float = 0.0
    total: int = 0
    misses: list[tuple[Question, list[str]]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def recall(self) -> float:
        return self.hits / self.total if self.total else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal / self.total if self.total else 0.0


def load_questions(language: str, *, quick: bool = False, unseen: bool = False) -> list[Question]:
    """The questions of ``bench/eval/questions_<language>.toml`` (or ``unseen_…``)."""
    name = f"{'unseen' if unseen else 'questions'}_{language}.toml"
    data = tomllib.loads((QUESTIONS / name).read_text(encoding="utf-8"))
    questions = [
        Question(str(q["text"]), tuple(str(f) for f in q["files"]), bool(q.get("quick", False)))
        for q in data["q"]
    ]
    return [q for q in questions if q.quick] if quick else questions


def missing_corpora(root: Path, folders: Sequence[str]) -> list[str]:
    """The folders of a corpus that are not under ``root``."""
    return [folder for folder in folders if not (root / folder).is_dir()]


def eval_settings(data_dir: Path, jina_url: str | None, jina_key: str | None) -> Settings:
    """Settings for an evaluation: a fresh data dir, the fake Jina when given."""
    provider = ProviderSettings(name="openai", base_url="http://127.0.0.1:9/v1", model="none")
    settings = Settings(provider=provider, providers={"openai": provider}, data_dir=data_dir)
    if jina_url is None:
        return replace(settings, embedding=EmbeddingSettings(provider="none"))
    embedding = EmbeddingSettings(
        provider="jina", base_url=jina_url, api_key=jina_key, dimensions=DIMENSIONS
    )
    return replace(settings, embedding=embedding)


async def build(
    settings: Settings, root: Path, folders: Sequence[str], knowledge_base: str
) -> tuple[int, float]:
    """Ingest the HTML pages of ``folders`` as ``chat-tui ingest`` would; (chunks, seconds)."""
    started = time.perf_counter()
    report = await ingest_paths(
        [root / folder for folder in folders],
        settings=settings,
        knowledge_base=knowledge_base,
        include=["*.html"],
    )
    return report.chunks, time.perf_counter() - started


def _name(passage: Passage) -> str:
    return passage.chunk.source.rsplit("/", 1)[-1]


async def evaluate(
    settings: Settings,
    knowledge_base: str,
    questions: Sequence[Question],
    mode: str,
    *,
    fusion: tuple[str, int, float] | None = None,
) -> Score:
    """Search every question in ``mode`` and score the rankings.

    Args:
        fusion: ``(method, k, dense weight)`` for hybrid; the settings' when None.
    """
    store = KnowledgeStore(settings, knowledge_base)
    embedder = make_embedder(settings.embedding) if mode != "bm25" else None
    method, k, weight = fusion or (
        "rrf" if mode == "rrf" else settings.retrieval.fusion,
        settings.retrieval.rrf_k,
        settings.retrieval.dense_weight,
    )
    score = Score(mode)
    started = time.perf_counter()
    try:
        for question in questions:
            vector = await embedder.embed_query(question.text) if embedder else None
            if mode == "bm25" or vector is None:
                found = await asyncio.to_thread(store.search_bm25, question.text, 10)
            elif mode == "dense":
                found = await asyncio.to_thread(store.search_dense, vector, 10)
            else:
                found = await asyncio.to_thread(
                    functools.partial(
                        store.search_hybrid,
                        question.text,
                        vector,
                        10,
                        20,
                        fusion=method,
                        rrf_k=k,
                        dense_weight=weight,
                    )
                )
            names = [_name(p) for p in found]
            score.total += 1
            ranks = [i for i, name in enumerate(names, start=1) if name in question.files]
            if ranks and ranks[0] <= 5:
                score.hits += 1
            else:
                score.misses.append((question, names[:3]))
            if ranks:
                score.reciprocal += 1.0 / ranks[0]
    finally:
        score.seconds = time.perf_counter() - started
        if embedder is not None:
            await embedder.aclose()
        store.close()
    return score
