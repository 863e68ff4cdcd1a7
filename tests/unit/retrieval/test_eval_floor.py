"""Retrieval quality on real documents (the quick set of ``bench/bench_eval.py``), with a floor.

Needs the Debian manuals that ``.ci/fetch-corpora`` downloads (``.ci/run`` sets
``CHAT_TUI_EVAL_CORPORA``); skipped, saying so, without them. The floors sit under the
figures measured when they were set, so a change that makes retrieval worse fails here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chat_tui.retrieval.milvus_server import stop_local_server
from tests.support.evaluation import (
    QUICK_CORPORA,
    build,
    eval_settings,
    evaluate,
    load_questions,
    missing_corpora,
)
from tests.support.fake_jina import FakeJina

#: Recall@5 floors of BM25 (measured on the quick set: en 0.850, zh 0.938).
FLOOR = {"en": 0.75, "zh": 0.85}
#: Hybrid with the weak fake embedder may not fall further than this below BM25.
HYBRID_SLACK = 0.05


def _corpora() -> Path:
    root = os.environ.get("CHAT_TUI_EVAL_CORPORA", "")
    if not root:
        pytest.skip("CHAT_TUI_EVAL_CORPORA is not set (.ci/fetch-corpora downloads them)")
    missing = [
        folder
        for folders in QUICK_CORPORA.values()
        for folder in missing_corpora(Path(root), folders)
    ]
    if missing:
        pytest.skip(f"corpora missing under {root}: {', '.join(missing)}")
    return Path(root)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("language", ["en", "zh"])
async def test_recall_at_5_holds_its_floor_and_hybrid_does_not_sink(
    language: str, tmp_path: Path
) -> None:
    root = _corpora()
    with FakeJina() as jina:
        settings = eval_settings(tmp_path, jina.url, jina.api_key)
        try:
            chunks, _ = await build(settings, root, QUICK_CORPORA[language], "eval")
            assert chunks > 100
            questions = load_questions(language, quick=True)
            bm25 = await evaluate(settings, "eval", questions, "bm25")
            hybrid = await evaluate(settings, "eval", questions, "hybrid")
        finally:
            stop_local_server(settings.knowledge_dir)
    missed = "; ".join(q.text for q, _ in bm25.misses)
    assert bm25.recall >= FLOOR[language], f"BM25 recall@5 {bm25.recall:.3f}; missed: {missed}"
    assert hybrid.recall >= bm25.recall - HYBRID_SLACK, (
        f"hybrid {hybrid.recall:.3f} < BM25 {bm25.recall:.3f}"
    )
