"""Readable text from HTML, as Markdown-ish text so the Markdown chunker can follow its headings.

Scripts, styles, navigation and other chrome are dropped; ``h1``..``h6`` become ``#`` headings,
``pre`` blocks become code fences, list items get a dash, and block elements are separated by
blank lines so paragraphs survive.

Main content only: when a page marks it (``<main>``, ``role="main"``, Sphinx's
``div.body``, ``<article>``), only that is kept; chrome is recognised by tag (``nav``,
``footer``), by ARIA role (``navigation``, ``search``, ``banner``, ``contentinfo``) and
by the class names the common generators give it (Sphinx's ``sphinxsidebar``,
``related``, ``headerlink`` ¶ links; DocBook's ``navheader``/``navfooter`` and chapter
``toc``; breadcrumbs). Measured on Python's docs by ``bench/bench_html_junk.py``.

Anchors: every element with an ``id`` (and ``<a name>``) is remembered with its offset
in the produced text, so a chunk knows the nearest anchor above it and a source can be
shown as ``page.html#anchor``.

Why a streaming parser (the standard library's ``html.parser``) rather than a tree: the
conversion must be linear in the page's size whatever its nesting. Building and editing a
beautifulsoup tree was quadratic in depth (2k/4k/8k nested ``div``: 3.0/9.2/35.6 s, 100k:
hours); events with a small stack of open elements cost O(size). Nesting deeper than
``MAX_DEPTH`` open elements is refused with a reason rather than processed.
"""

from __future__ import annotations

import bisect
import re
from html.parser import HTMLParser

from chat_tui.ingest.loaders import tidy_blank_lines
from chat_tui.ingest.report import FileRefused

DROPPED_TAGS = frozenset(
    {"script", "style", "nav", "noscript", "template", "svg", "iframe", "head", "form"}
)
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "blockquote",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "table",
        "tr",
        "figure",
        "figcaption",
        "address",
        "hr",
        "br",
        "body",
        "details",
        "summary",
    }
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
#: Elements without an end tag: never pushed on the stack of open elements.
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
#: Open elements at once beyond which a page is refused (real pages stay far below 1,000).
MAX_DEPTH = 200_000
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
#: ARIA roles and class names of page chrome (navigation, sidebars, footers, ¶ links).
CHROME_ROLES = frozenset({"navigation", "search", "banner", "contentinfo", "complementary"})
CHROME_CLASSES = frozenset(
    {
        "sphinxsidebar",
        "sphinxsidebarwrapper",
        "related",
        "headerlink",
        "footer",
        "navheader",
        "navfooter",
        "toc",
        "breadcrumb",
        "breadcrumbs",
        "sidebar",
        "skip-link",
        "mobile-nav",
        "navigation",
    }
)
#: Elements that hold a page's main content when a page marks one.
_MAIN_CLASSES = frozenset({"body", "main-content"})
#: Where an anchor sits in the text while it is being built (private-use characters,
#: removed from the page's own text first).
_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"
_MARKS = re.compile(f"{_MARK_OPEN}([^{_MARK_CLOSE}]*){_MARK_CLOSE}")
_ANCHOR_ID = re.compile(r"[\w.:\-]{1,200}")
_BLANK_RUN = re.compile(r"\n(?:[ \t]*\n){2,}")
_HEADING_SYMBOLS = re.compile(r"\s*[¶#§]+\s*$")


def _attr(attrs: list[tuple[str, str | None]], name: str) -> str:
    for key, value in attrs:
        if key == name:
            return value or ""
    return ""


def _is_chrome(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    if tag in DROPPED_TAGS:
        return True
    if _attr(attrs, "role") in CHROME_ROLES:
        return True
    classes = _attr(attrs, "class").split()
    return any(name in CHROME_CLASSES for name in classes)


def _is_main(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    if tag in ("main", "article") or _attr(attrs, "role") == "main":
        return True
    return tag == "div" and any(name in _MAIN_CLASSES for name in _attr(attrs, "class").split())


_PLAIN, _DROPPED, _MAIN = 0, 1, 2


class _TextCollector(HTMLParser):
    """Collects text, headings, fences and block breaks from parser events."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[str] = []
        self.kinds: list[int] = []  # per open element: _PLAIN, _DROPPED or _MAIN
        self.dropped = 0  # open elements whose content is dropped
        self.main: tuple[int, int] | None = None  # out[start:end] of the main content
        self.main_start = -1
        self.title: list[str] = []
        self.in_title = False
        self.heading: tuple[int, list[str]] | None = None
        self.pre: list[str] | None = None
        self.pre_depth = 0
        self.has_h1 = False

    # -- structure

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in _VOID:
            self._open_effects(tag)
            return
        if len(self.stack) >= MAX_DEPTH:
            raise FileRefused(f"HTML nested deeper than {MAX_DEPTH:,} elements")
        kind = _PLAIN
        if _is_chrome(tag, attrs):
            kind = _DROPPED
        elif self.main_start < 0 and not self.dropped and _is_main(tag, attrs):
            kind = _MAIN
            self.main_start = len(self.out)
        self.stack.append(tag)
        self.kinds.append(kind)
        if kind == _DROPPED:
            self.dropped += 1
        self._anchor(attrs)
        self._open_effects(tag)

    def _anchor(self, attrs: list[tuple[str, str | None]]) -> None:
        if self.dropped:
            return
        anchor = _attr(attrs, "id") or _attr(attrs, "name")
        if anchor and _ANCHOR_ID.fullmatch(anchor):
            mark = f"{_MARK_OPEN}{anchor}{_MARK_CLOSE}"
            if self.pre is not None:
                self.pre.append(mark)
            elif self.heading is not None:
                self.heading[1].append(mark)
            else:
                self.out.append(mark)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._anchor(attrs)
        self._open_effects(tag)
        self._close_effects(tag)

    def _open_effects(self, tag: str) -> None:
        if self.dropped:
            return
        if self.pre is not None:
            if tag == "pre":
                self.pre_depth += 1
            return
        if tag == "pre":
            self.pre, self.pre_depth = [], 1
        elif tag in _HEADINGS:
            self.heading = (_HEADINGS[tag], [])
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in BLOCK_TAGS:
            self.out.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _VOID or tag not in self.stack[-64:]:
            return  # a stray end tag (only the nearest open elements are looked at: O(1))
        while self.stack:
            open_tag, kind = self.stack.pop(), self.kinds.pop()
            if kind == _DROPPED:
                self.dropped -= 1
            else:
                self._close_effects(open_tag)
                if kind == _MAIN:
                    self.main = (self.main_start, len(self.out))
            if open_tag == tag:
                break

    def _close_effects(self, tag: str) -> None:
        if self.dropped:
            return
        if self.pre is not None:
            if tag == "pre":
                self.pre_depth -= 1
                if self.pre_depth == 0:
                    body = "".join(self.pre).strip("\n")
                    self.out.append(f"\n\n```\n{body}\n```\n\n")
                    self.pre = None
            return
        if tag in _HEADINGS and self.heading is not None:
            level, parts = self.heading
            self.heading = None
            text = _HEADING_SYMBOLS.sub("", " ".join("".join(parts).split()))
            if _MARKS.sub("", text).strip():
                self.has_h1 = self.has_h1 or level == 1
                self.out.append(f"\n\n{'#' * level} {text}\n\n")
            else:
                self.out.append("\n\n")
        elif tag == "li":
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append(" | ")
        elif tag in BLOCK_TAGS:
            self.out.append("\n\n")

    # -- text

    def handle_data(self, data: str) -> None:
        if _MARK_OPEN in data or _MARK_CLOSE in data:
            data = data.replace(_MARK_OPEN, "").replace(_MARK_CLOSE, "")
        if self.in_title:
            self.title.append(data)
        if self.dropped:
            return
        if self.pre is not None:
            self.pre.append(data)
        elif self.heading is not None:
            self.heading[1].append(data)
        else:
            self.out.append(data)


def html_to_document(html: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    """The page's readable text and its anchors, in time linear in its size.

    Args:
        html: the page source.

    Returns:
        ``(text, anchors)``: text with headings as ``#`` lines and paragraphs separated by
        blank lines (empty when the page has no text); anchors as ``(offset, id)`` pairs
        in text order, the offset where the element with that ``id`` starts.

    Raises:
        FileRefused: the page nests more than ``MAX_DEPTH`` elements.
    """
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    if collector.main_start >= 0 and collector.main is None:
        collector.main = (collector.main_start, len(collector.out))  # never closed
    out = collector.out
    if collector.main is not None:
        start, end = collector.main
        out = out[start:end]
    # Fences keep their own spacing; everything else has runs of spaces collapsed.
    pieces = re.split(r"(\n\n```\n.*?\n```\n\n)", "".join(out), flags=re.S)
    cleaned: list[str] = []
    for index, piece in enumerate(pieces):
        if index % 2:
            cleaned.append(piece)
        else:
            cleaned.append("\n".join(_SPACES.sub(" ", line).strip() for line in piece.split("\n")))
    text = tidy_blank_lines("".join(cleaned))
    title = " ".join("".join(collector.title).split())
    if title and not collector.has_h1 and _MARKS.sub("", text).strip():
        text = f"# {title}\n\n{text}"
    return _take_anchors(text)


def _take_anchors(marked: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    """The text without its anchor marks, and where each mark was."""
    parts: list[str] = []
    anchors: list[tuple[int, str]] = []
    length = 0
    position = 0
    for match in _MARKS.finditer(marked):
        piece = marked[position : match.start()]
        parts.append(piece)
        length += len(piece)
        anchors.append((length, match.group(1)))
        position = match.end()
    parts.append(marked[position:])
    text = "".join(parts)
    # A mark alone on a line left a run of blank lines behind: make it one blank line
    # again, and move the offsets with the text.
    squeezed: list[str] = []
    moves: list[tuple[int, int]] = []  # (end of a run in the old text, characters removed)
    removed = 0
    position = 0
    for run in _BLANK_RUN.finditer(text):
        squeezed.append(text[position : run.start()] + "\n\n")
        removed += len(run.group()) - 2
        moves.append((run.end(), removed))
        position = run.end()
    squeezed.append(text[position:])
    text = "".join(squeezed)

    def moved(offset: int) -> int:
        index = bisect.bisect_right(moves, (offset, float("inf"))) - 1
        return offset - (moves[index][1] if index >= 0 else 0)

    stripped = text.lstrip()
    shift = len(text) - len(stripped)
    text = stripped.rstrip()
    kept = tuple(
        (max(0, min(moved(offset) - shift, len(text))), anchor) for offset, anchor in anchors
    )
    return text, kept


def html_to_markdown(html: str) -> str:
    """The page's readable text with headings as ``#`` lines (``html_to_document``'s text)."""
    return html_to_document(html)[0]
