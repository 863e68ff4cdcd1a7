"""Retrieval quality on real documents: recall@5 and MRR for BM25, dense, hybrid and RRF.

    python bench/bench_eval.py --corpora /work/corpora [--quick] [--unseen] [--misses]
        [--modes bm25,dense,hybrid,rrf] [--sweep] [--data-dir DIR]

The corpora are Debian's manuals (``.ci/fetch-corpora DIR`` downloads them); the
question sets are ``bench/eval/*.toml``. Each language gets its own knowledge base,
built by chat-tui's ingest into a real Milvus Lite file, with 256-d vectors from the
fake Jina server (hashed words and CJK bigrams over HTTP: a weak dense model, which
is the case fusion must survive). ``--sweep`` prints hybrid for fusion k x dense
weight. ``--unseen`` runs the held-out sets (Python's HTML docs, Chinese man pages),
never used to tune anything.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chat_tui.retrieval.milvus_server import stop_local_server  # noqa: E402
from tests.support.evaluation import (  # noqa: E402
    CORPORA,
    MODES,
    QUICK_CORPORA,
    UNSEEN_CORPORA,
    build,
    eval_settings,
    evaluate,
    load_questions,
    missing_corpora,
)
from tests.support.fake_jina import FakeJina  # noqa: E402


async def run(options: argparse.Namespace) -> int:
    root = Path(options.corpora)
    corpora = UNSEEN_CORPORA if options.unseen else QUICK_CORPORA if options.quick else CORPORA
    modes = [m for m in options.modes.split(",") if m]
    data_dir = Path(options.data_dir or tempfile.mkdtemp(prefix="bench-eval-"))
    with FakeJina() as jina:
        settings = eval_settings(data_dir, jina.url, jina.api_key)
        if options.analyzer:
            retrieval = replace(settings.retrieval, analyzer=options.analyzer)
            settings = replace(settings, retrieval=retrieval)
        try:
            for language, folders in corpora.items():
                missing = missing_corpora(root, folders)
                if missing:
                    print(f"{language}: corpora missing under {root}: {', '.join(missing)}")
                    continue
                questions = load_questions(language, quick=options.quick, unseen=options.unseen)
                kb = f"eval_{language}{'_unseen' if options.unseen else ''}"
                if options.analyzer:
                    kb += f"_{options.analyzer}"
                chunks, seconds = await build(settings, root, folders, kb)
                print(
                    f"\n{language}: {len(questions)} questions; ingest stored {chunks} chunks "
                    f"in {seconds:.1f} s"
                )
                print(f"  {'mode':<8} {'recall@5':>8} {'MRR':>6} {'ms/q':>6}")
                for mode in modes:
                    score = await evaluate(settings, kb, questions, mode)
                    per = 1000 * score.seconds / max(1, score.total)
                    print(f"  {mode:<8} {score.recall:8.3f} {score.mrr:6.3f} {per:6.1f}")
                    if options.misses and score.misses:
                        for question, first in score.misses:
                            print(f"      miss: {question.text}  -> {', '.join(first) or '-'}")
                if options.sweep:
                    print("  hybrid sweep (k x dense weight): recall@5 / MRR")
                    for k in (10, 30, 60):
                        row = []
                        for weight in (0.1, 0.3, 0.5, 1.0):
                            score = await evaluate(
                                settings, kb, questions, "hybrid", fusion=("weighted", k, weight)
                            )
                            row.append(f"w={weight}: {score.recall:.3f}/{score.mrr:.3f}")
                        print(f"    k={k:<3} " + "  ".join(row))
        finally:
            stop_local_server(settings.knowledge_dir)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", required=True, help="where .ci/fetch-corpora unpacked them")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--quick", action="store_true", help="the CI test's small set")
    parser.add_argument("--unseen", action="store_true", help="the held-out sets")
    parser.add_argument("--misses", action="store_true", help="list the missed questions")
    parser.add_argument("--sweep", action="store_true", help="hybrid over fusion k x weight")
    parser.add_argument(
        "--analyzer", choices=("jieba", "english", "standard"), help="BM25 analyzer"
    )
    parser.add_argument("--data-dir", help="keep the knowledge bases here (default: a temp dir)")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
