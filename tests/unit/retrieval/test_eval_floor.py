"""The quick evaluation as a CI test: recall@5 of the right file on real Debian documents.

The corpora are Debian packages that ``.ci/fetch-corpora`` downloads and unpacks and names
in ``CHAT_TUI_EVAL_CORPORA``; without them the test skips and says why. The figures are
printed by ``bench/bench_eval.py --quick``; here only floors a bit under the measured
figures are asserted, so a regression in what goes in (loaders, HTML extraction, chunking)
or in ranking fails CI.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from chat_tui.retrieval.milvus_server import stop_local_server
from tests.support.fake_jina import FakeJina

REPO = Path(__file__).resolve().parents[3]
#: Measured on 2026-12-03 (bench/bench_eval.py --quick; Milvus Lite 2.5.1, main-content
#: HTML, .gz read): EN BM25 1.000 (20 questions), ZH BM25 0.938 (16 questions); hybrid
#: with the fake embedder EN 1.000, ZH 0.938. Before this work (eee0323): 1.000 / 0.875.
FLOORS = {"en": 0.85, "zh": 0.85}
#: Hybrid may not fall more than this below BM25 (one question in 16 is 0.0625).
HYBRID_TOLERANCE = 0.07

pytestmark = pytest.mark.slow


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_eval", REPO / "bench" / "bench_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_eval"] = module
    spec.loader.exec_module(module)
    return module


def _corpora() -> Path:
    where = os.environ.get("CHAT_TUI_EVAL_CORPORA", "")
    if not where:
        pytest.skip("CHAT_TUI_EVAL_CORPORA is not set (.ci/fetch-corpora could not fetch them)")
    path = Path(where)
    if (
        not (path / "debian-reference-en").is_dir()
        or not (path / "debian-reference-zh-cn").is_dir()
    ):
        pytest.skip(f"no debian-reference corpora under {where}")
    return path


async def test_quick_evaluation_holds_its_floors(tmp_path: Path) -> None:
    corpora = _corpora()
    bench = _bench()
    questions = bench.load_questions(unseen=False, quick=True)
    assert {q.lang for q in questions} == {"en", "zh"}
    with FakeJina() as fake:
        settings = bench.make_settings(tmp_path, fake.url, fake.api_key)
        try:
            _, scores, _ = await bench.evaluate(
                corpora,
                questions,
                ("bm25", "hybrid"),
                tmp_path,
                fake.url,
                fake.api_key,
                quiet=True,
            )
        finally:
            stop_local_server(settings.knowledge_dir)
    for lang, floor in FLOORS.items():
        bm25 = scores[(lang, "bm25")].recall
        hybrid = scores[(lang, "hybrid")].recall
        assert bm25 >= floor, f"{lang} BM25 recall@5 {bm25:.3f} < floor {floor}"
        assert hybrid >= bm25 - HYBRID_TOLERANCE, (
            f"{lang} hybrid recall@5 {hybrid:.3f} below BM25 {bm25:.3f}"
        )
