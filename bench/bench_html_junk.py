"""How much of an ingested documentation folder is junk: generated files, navigation, ``¶``.

Run: ``python bench/bench_html_junk.py DIR [--chunk-tokens 500] [--compare OTHER_CHECKOUT]``

Walks ``DIR`` as ``chat-tui ingest DIR`` does (the real ``walk`` with its default
exclusions), loads and chunks every file with the real loaders and chunker (no store, no
embedder), and prints:

- files walked, files skipped by the walk (by reason), chunks total;
- chunks from generated sources (``_sources/``, ``searchindex.js``, ``_static/``,
  ``genindex``/``modindex``/``search.html``, minified JS/CSS, maps, lock files), classified
  here by path so the figure means the same before and after a change to the walk;
- nav-like chunks ("This Page", "Report a Bug", "Show Source", "Navigation"), chunks holding
  a ``¶``, chunks under 40 characters;
- HTML pages with at least one ``id`` anchor, and chunks of those pages (the chunks a
  ``page.html#anchor`` citation can be given for), and chunks whose ``anchor`` is set;
- HTML load time per page (p50 / p95 ms) and the slowest page.

With ``--compare`` (another checkout of chat-tui, e.g. ``/work/main``), every HTML page
under ``DIR`` is also reduced by that checkout's ``chat_tui/ingest/html_text.py`` and by
this one's: how many pages give a different text or anchors, how many of those differ
only because of CRLF line ends (the same once the page's ``\r\n`` is made ``\n``, as
HTML5 parsing does), the first few other differences, and the CPU seconds of each.

Figures are printed, never asserted. Nothing is written.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chat_tui.errors import IngestError  # noqa: E402
from chat_tui.ingest import html_text  # noqa: E402
from chat_tui.ingest.chunking import chunk_document  # noqa: E402
from chat_tui.ingest.loaders import (  # noqa: E402
    HTML_SUFFIXES,
    decode_text,
    load_document,
    read_file_bytes,
)
from chat_tui.ingest.walk import walk  # noqa: E402

#: Generated artefacts, by path (kept here, not imported, so the base commit measures the same).
_GENERATED = re.compile(
    r"(^|/)(_sources|_static|node_modules|__pycache__|_build)/"
    r"|(^|/)(searchindex\.js|search\.html|objects\.inv|package-lock\.json|pnpm-lock\.yaml)$"
    r"|(^|/)genindex[^/]*\.html$|(^|/)[^/]*modindex[^/]*\.html$"
    r"|\.min\.(js|css)$|\.map$|\.lock$"
)
_NAV = ("This Page", "Report a Bug", "Show Source", "Navigation")


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _other_html_text(checkout: Path) -> Any:
    """``chat_tui/ingest/html_text.py`` of another checkout, imported under its own name.

    (Its own imports, ``chat_tui.ingest.blank_lines`` and ``report``, come from this
    checkout: they are the same small modules.)
    """
    path = checkout / "chat_tui" / "ingest" / "html_text.py"
    spec = importlib.util.spec_from_file_location("other_html_text", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def compare(root: Path, checkout: Path, shown: int = 3) -> None:
    """Print how many HTML pages under ``root`` the two extractions reduce differently."""
    other = _other_html_text(checkout)
    pages = differ = crlf_only = 0
    cpu_other = cpu_ours = 0.0
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in HTML_SUFFIXES or not path.is_file():
            continue
        try:
            page = decode_text(read_file_bytes(path, 20.0))
            began = time.process_time()
            before = other.html_to_text(page)
            cpu_other += time.process_time() - began
            began = time.process_time()
            after = html_text.html_to_text(page)
            cpu_ours += time.process_time() - began
        except IngestError:
            continue
        pages += 1
        if (before.text, before.anchors) == (after.text, after.anchors):
            continue
        differ += 1
        lf = other.html_to_text(page.replace("\r\n", "\n").replace("\r", "\n"))
        if (lf.text, lf.anchors) == (after.text, after.anchors):
            crlf_only += 1
            continue
        if differ - crlf_only <= shown:
            print(f"  differs: {path.relative_to(root)}")
            lines = difflib.unified_diff(
                before.text.splitlines(), after.text.splitlines(), lineterm="", n=0
            )
            for line in list(lines)[2:12]:
                print(f"    {line[:160]}")
    print(
        f"extraction vs {checkout}: {pages:,} HTML pages, {differ:,} differ "
        f"({crlf_only:,} only by CRLF line ends); CPU {cpu_other:.2f} s there, "
        f"{cpu_ours:.2f} s here"
    )


def main() -> None:
    """Walk, load and chunk ``DIR``; print the junk figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--chunk-tokens", type=int, default=500)
    parser.add_argument(
        "--compare", type=Path, help="another chat-tui checkout whose HTML extraction to diff"
    )
    args = parser.parse_args()
    root = args.folder.resolve()
    if args.compare:
        compare(root, args.compare.resolve())
        return

    began = time.perf_counter()
    walked = walk([root])
    walk_s = time.perf_counter() - began
    reasons = Counter(skip.reason.split(" (", 1)[0] for skip in walked.skipped)

    chunks_total = generated = nav = pilcrow = tiny = with_anchor_set = 0
    anchored_pages = anchored_chunks = html_pages = 0
    refused: Counter[str] = Counter()
    html_ms: list[tuple[float, str]] = []
    for path in walked.files:
        relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        try:
            data = read_file_bytes(path, 20.0)
            start = time.perf_counter()
            document = load_document(path, data, allow_images=False)
            elapsed = (time.perf_counter() - start) * 1000
        except IngestError as error:
            refused[str(error).split(" (", 1)[0]] += 1
            continue
        chunks = chunk_document(
            document,
            source=str(path),
            file_hash="-",
            chunk_tokens=args.chunk_tokens,
            overlap=min(50, args.chunk_tokens // 4),
        )
        anchors = getattr(document, "anchors", ())
        if path.suffix.lower() in HTML_SUFFIXES:
            html_pages += 1
            html_ms.append((elapsed, relative))
            if anchors:
                anchored_pages += 1
                anchored_chunks += len(chunks)
        chunks_total += len(chunks)
        is_generated = bool(_GENERATED.search(relative))
        for chunk in chunks:
            generated += is_generated
            nav += any(marker in chunk.text for marker in _NAV)
            pilcrow += "¶" in chunk.text or "¶" in chunk.heading
            tiny += len(chunk.text.strip()) < 40
            with_anchor_set += bool(getattr(chunk, "anchor", ""))

    times = [ms for ms, _ in html_ms]
    slowest = max(html_ms, default=(0.0, "-"))
    print(f"folder: {root}")
    print(f"files walked: {len(walked.files):,} in {walk_s:.2f} s")
    print(f"walk skips: {sum(reasons.values()):,} {dict(reasons.most_common(6))}")
    print(f"loader refusals: {sum(refused.values()):,} {dict(refused.most_common(6))}")
    print(f"chunks total: {chunks_total:,}")
    print(f"chunks from generated sources: {generated:,}")
    print(f"nav-like chunks ({', '.join(_NAV)}): {nav:,}")
    print(f"chunks containing ¶: {pilcrow:,}")
    print(f"chunks under 40 chars: {tiny:,}")
    print(f"HTML pages: {html_pages:,}, with >=1 anchor: {anchored_pages:,}")
    print(f"chunks of pages with anchors: {anchored_chunks:,}")
    print(f"chunks with anchor set: {with_anchor_set:,}")
    print(
        f"HTML load ms: p50 {statistics.median(times) if times else 0:.2f}"
        f" p95 {_percentile(times, 0.95):.2f}; slowest {slowest[0]:.1f} ({slowest[1]})"
    )


if __name__ == "__main__":
    main()
