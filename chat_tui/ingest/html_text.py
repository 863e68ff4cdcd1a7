"""Readable main content from HTML, as Markdown so the Markdown chunker can follow its headings.

What a user means by a page is its main content: navigation, sidebars, footers, search
boxes, breadcrumbs, prev/next links, scripts and Sphinx's ``¶`` header links are dropped
(measured on the Python docs: half of the chunks were such chrome). When the page marks
its content (``<main>``, ``role="main"``; failing that ``<article>`` or Sphinx's
``div.body``) only that is kept. ``h1``..``h6`` become ``#`` headings without their anchor
symbols, ``pre`` blocks become code fences, list items get a dash, table rows become
``| a | b |`` lines, and block elements are separated by blank lines so paragraphs survive.
Where each element with an ``id`` (or ``<a name>``) starts in the produced text is recorded,
so a chunk can cite ``page.html#id``.

Why own rules on a streaming parser rather than a tree or an extraction library: the
conversion must be linear in the page's size whatever its nesting. Building and editing a
beautifulsoup tree was quadratic in depth (2k/4k/8k nested ``div``: 3.0/9.2/35.6 s, 100k:
hours); events with a small stack of open elements cost O(size). trafilatura recalled less
of the Python docs' text (0.889 against 0.929 for these rules), ran 3-5x slower and gives no
anchors. Nesting deeper than ``MAX_DEPTH`` open elements is refused with a reason rather
than processed.

Why libxml2's HTML parser (``lxml``, as a "target" parser: it calls ``start``/``end``/
``data`` here and builds no tree) rather than the standard library's ``html.parser``: with
the pure-Python tokenizer, loading the Python 3.11 docs' 499 pages took 12-13 CPU-s of the
~17 that reading, loading and chunking them took; with libxml2's (and a short path for
inline elements) 4.2-4.5 CPU-s, and the same text on all 530 pages of the Python docs and
every page of the Debian manuals (``bench/bench_html_junk.py --compare``). Where the two
differ it is malformed HTML, and libxml2 follows the HTML5 rules a browser does: ``\r\n``
becomes ``\n`` (the git docs' CRLF pages kept stray ``\r`` in their text before), cells
and paragraphs left open are closed, ``<title>``/``<textarea>`` hold text not tags, a
duplicated attribute keeps its first value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from chat_tui.errors import IngestError
from chat_tui.ingest.blank_lines import tidy_blank_lines
from chat_tui.ingest.report import FileRefused

DROPPED_TAGS = frozenset(
    {
        "script",
        "style",
        "nav",
        "noscript",
        "template",
        "svg",
        "iframe",
        "head",
        "form",
        "button",
        "select",
    }
)
#: ``role`` values of page chrome (``div role="navigation"`` is Sphinx's, not ``<nav>``).
DROPPED_ROLES = frozenset({"navigation", "search", "banner", "contentinfo"})
#: Class names of page chrome: Sphinx sidebars, related (prev/next) bars, footers, the
#: ``¶`` header links, breadcrumbs and pagers of common themes; DocBook's navigation
#: header/footer and the table of contents it puts atop every chapter (Debian's
#: manuals: without these, chapter tables of contents outrank the chapters).
DROPPED_CLASSES = frozenset(
    {
        "navheader",
        "navfooter",
        "toc",
        "sphinxsidebar",
        "sphinxsidebarwrapper",
        "related",
        "footer",
        "headerlink",
        "breadcrumb",
        "breadcrumbs",
        "wy-breadcrumbs",
        "pagination",
        "pager",
        "prev-next-area",
        "prev-next-footer",
        "rst-footer-buttons",
        "skip-link",
        "version_switcher_placeholder",
        "language_switcher_placeholder",
    }
)
DROPPED_IDS = frozenset({"footer", "breadcrumbs", "sidebar"})
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
        "figure",
        "figcaption",
        "address",
        "hr",
        "br",
        "body",
        "details",
        "summary",
        "caption",
    }
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
#: Elements without an end tag: never pushed on the stack of open elements.
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
#: Inline elements: opening or closing one writes nothing (only their attributes matter).
#: Most elements of real pages are these (the Python docs: 45% ``span``, 15% ``a``).
_INLINE = frozenset(
    {"span", "a", "code", "em", "strong", "b", "i", "tt", "kbd", "var", "samp", "abbr", "cite"}
    | {"sub", "sup", "small", "mark", "q", "s", "u", "del", "ins", "time", "label", "font"}
)
#: Elements inside which a ``<header>``/``<footer>`` belongs to the content, not the page.
_CONTAINERS = frozenset({"article", "section", "main"})
#: Open elements at once beyond which a page is refused (real pages stay far below 1,000).
MAX_DEPTH = 200_000
#: Longest ``id`` kept as an anchor (longer ones are not link targets anyone types).
MAX_ANCHOR_CHARS = 200
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
# Private-use characters mark anchors and fences in the text while it is tidied; the page's
# own are removed first so a page cannot forge them.
_MARK, _MARK_END, _FENCE, _FENCE_END = "\ue000", "\ue001", "\ue002", "\ue003"
_OWN_MARKS = str.maketrans("", "", _MARK + _MARK_END + _FENCE + _FENCE_END)
_MARKS = re.compile(f"{_MARK}(\\d+){_MARK_END}")
_FENCES = re.compile(f"{_FENCE}(\\d+){_FENCE_END}")
_HEADING_TAIL = re.compile(r"(?:\s*[¶§\U0001f517]|\s+#+)+$")
_TAIL_CHARS = 64
_HEADING_HEAD = re.compile(r"^(?:#+\s+|[¶§\U0001f517]\s*)+")
# Marked content: <main> or role="main" first; failing those, <article> or Sphinx's div.body.
# (Searched in the lowered page: IGNORECASE made these searches 30x slower.)
_HAS_MAIN = re.compile(r"<main[\s>]|role\s*=\s*[\"']?main[\s\"'>]")
# (A class value is looked into for 100 characters at most: unbounded, a page of
# "class=class=..." made the search quadratic.)
_HAS_ARTICLE = re.compile(r"<article[\s>]|class\s*=\s*[\"']?(?:[^\"'>]{0,100}\s)?body[\s\"'>]")
_ANCHOR_ID = re.compile(r"[^\x00-\x20\x7f]+")

_DROP, _MAIN, _CONTAINER, _CELL, _TABLE = 1, 2, 4, 8, 16


@dataclass(frozen=True)
class HtmlText:
    """A page reduced to Markdown, and where its ``id`` anchors start in it.

    Attributes:
        text: the Markdown.
        anchors: ``(offset, id)`` pairs sorted by offset: the ``id`` (or ``<a name>``) of an
            element and where its first text (or its heading line) starts in ``text``.
    """

    text: str
    anchors: tuple[tuple[int, str], ...] = ()


class _TextCollector:
    """Collects text, headings, fences, block breaks and anchors from parser events.

    A parser target for ``lxml.etree.HTMLParser``: libxml2 calls ``start``, ``end``,
    ``data`` and ``close`` as it reads (tag and attribute names lower-cased, character
    references decoded).
    """

    def __init__(self, main_level: int) -> None:
        #: 0: keep the whole body; 1: only <main>/role=main; 2: only <article>/div.body.
        self.main_level = main_level
        self.out: list[str] = []
        self.stack: list[str] = []
        self.flags: list[int] = []
        self.dropped = 0  # open elements whose content is dropped
        self.mains = 0  # open main-content elements
        self.containers = 0
        self.cells = 0
        self.tables: list[list[int]] = []  # per open table: [rows done, th in this row]
        self.title: list[str] = []
        self.in_title = False
        self.heading: tuple[int, list[str]] | None = None
        self.pre: list[str] | None = None
        self.pre_depth = 0
        self.has_h1 = False
        self.ids: list[str] = []
        self.pending: list[int] = []  # anchors waiting for the next text
        self.fences: list[str] = []
        self.seen_main = False
        self.in_item = False  # a list item opened and no text yet: its <p> starts no block
        #: Whether content seen now is kept (not in chrome, and in the main content if any);
        #: set again whenever ``dropped`` or ``mains`` change (asked on every event).
        self.emitting = not main_level

    def _update_emitting(self) -> None:
        self.emitting = not self.dropped and (self.mains > 0 or not self.main_level)

    # -- structure

    def _classify(self, tag: str, attrs: Mapping[str, str]) -> int:
        # Called for every start tag: one pass over the attributes, no dict or set built.
        flags = _DROP if tag in DROPPED_TAGS else 0
        classes: list[str] = []
        role = ""
        for name, value in attrs.items() if attrs else ():
            if not value:
                continue
            if name == "class":
                classes = value.split()
            elif name == "role":
                role = value.strip().lower()
            elif (
                (name == "id" and value.strip().lower() in DROPPED_IDS)
                or (name == "aria-label" and "breadcrumb" in value.lower())
                or (name == "rel" and tag == "a" and value.strip().lower() in ("prev", "next"))
            ):
                flags |= _DROP
        if (
            role in DROPPED_ROLES
            or (classes and not DROPPED_CLASSES.isdisjoint(classes))
            or (tag in ("header", "footer") and not self.containers)
        ):
            flags |= _DROP
        if (self.main_level == 1 and (tag == "main" or role == "main")) or (
            self.main_level == 2 and (tag == "article" or (tag == "div" and "body" in classes))
        ):
            flags |= _MAIN
        if tag in _CONTAINERS or role == "main" or flags & _MAIN:
            flags |= _CONTAINER
        if tag in ("td", "th"):
            flags |= _CELL
        if tag == "table":
            flags |= _TABLE
        return flags

    def _anchor(self, attrs: Mapping[str, str], tag: str) -> None:
        if not attrs or not self.emitting:
            return
        for name, value in attrs.items():
            if value and (name == "id" or (name == "name" and tag == "a")):
                value = value.strip().translate(_OWN_MARKS)
                if 0 < len(value) <= MAX_ANCHOR_CHARS and _ANCHOR_ID.fullmatch(value):
                    self.pending.append(len(self.ids))
                    self.ids.append(value)
                return

    def start(self, tag: str, attrs: Mapping[str, str]) -> None:
        """An element opens (libxml2 also calls this for the ones HTML implies)."""
        if tag in _INLINE and len(self.stack) < MAX_DEPTH:
            # The common case, short: no open effects, no flags without attributes.
            flags = self._classify(tag, attrs) if attrs else 0
            self.stack.append(tag)
            self.flags.append(flags)
            if flags:
                self._flag(flags)
            if attrs:
                self._anchor(attrs, tag)
            return
        if tag == "title":
            self.in_title = True
        if tag in _VOID:
            self._anchor(attrs, tag)
            self._open_effects(tag)
            return
        if len(self.stack) >= MAX_DEPTH:
            raise FileRefused(f"HTML nested deeper than {MAX_DEPTH:,} elements")
        flags = self._classify(tag, attrs)
        self.stack.append(tag)
        self.flags.append(flags)
        if flags:
            self._flag(flags)
        self._anchor(attrs, tag)
        self._open_effects(tag)
        if flags & _TABLE:
            self.tables.append([0, 0])

    def _flag(self, flags: int) -> None:
        """Counts an element that opened with ``flags``."""
        if flags & (_DROP | _MAIN):
            self.dropped += flags & _DROP
            if flags & _MAIN:
                self.mains += 1
                self.seen_main = True
            self._update_emitting()
        self.containers += bool(flags & _CONTAINER)
        self.cells += bool(flags & _CELL)

    def _unflag(self, flags: int) -> None:
        """Uncounts an element that closed (``_flag`` undone)."""
        if flags & (_DROP | _MAIN):
            self.dropped -= flags & _DROP
            self.mains -= bool(flags & _MAIN)
            self._update_emitting()
        self.containers -= bool(flags & _CONTAINER)
        self.cells -= bool(flags & _CELL)
        if flags & _TABLE and self.tables:
            self.tables.pop()

    def _open_effects(self, tag: str) -> None:
        if not self.emitting:
            return
        if self.pre is not None:
            if tag == "pre":
                self.pre_depth += 1
            return
        if tag == "pre":
            self.pre, self.pre_depth = [], 1
        elif tag in _HEADINGS:
            self.heading = (_HEADINGS[tag], [])
        elif self.cells:
            if tag in ("td", "th"):
                self.out.append(" ")
                if tag == "th" and self.tables:
                    self.tables[-1][1] += 1
            elif tag in BLOCK_TAGS or tag == "li":
                self.out.append(" ")
        elif tag == "tr":
            self.out.append("\n|")
        elif tag == "li":
            self.out.append("\n- ")
            self.in_item = True
        elif (tag in BLOCK_TAGS or tag == "table") and not (self.in_item and tag in ("p", "div")):
            self.out.append("\n\n")

    def end(self, tag: str) -> None:
        """An element closes (libxml2 also calls this for the ones HTML closes implicitly)."""
        stack = self.stack
        if tag in _INLINE and stack and stack[-1] == tag:
            # The common case, short: libxml2 closes what it opened, in order.
            stack.pop()
            flags = self.flags.pop()
            if flags:
                self._unflag(flags)
            return
        if tag == "title":
            self.in_title = False
        if tag in _VOID or tag not in stack[-64:]:
            return  # a stray end tag (only the nearest open elements are looked at: O(1))
        while stack:
            open_tag = stack.pop()
            flags = self.flags.pop()
            self._close_effects(open_tag)
            if flags:
                self._unflag(flags)
            if open_tag == tag:
                break

    def _marks(self) -> str:
        marks = "".join(f"{_MARK}{index}{_MARK_END}" for index in self.pending)
        self.pending.clear()
        return marks

    def _close_effects(self, tag: str) -> None:
        if not self.emitting:
            return
        if self.pre is not None:
            if tag == "pre":
                self.pre_depth -= 1
                if self.pre_depth == 0:
                    self._fence("".join(self.pre).strip("\n"))
            return
        if tag in _HEADINGS and self.heading is not None:
            level, parts = self.heading
            self.heading = None
            text = " ".join("".join(parts).split())
            # The tail rule looks at the last characters only: searched over the whole of a
            # hostile heading ("# # # ... x") it would be quadratic.
            cut = max(0, len(text) - _TAIL_CHARS)
            text = _HEADING_HEAD.sub("", text[:cut] + _HEADING_TAIL.sub("", text[cut:]))
            if text:
                self.has_h1 = self.has_h1 or level == 1
                self.out.append(f"\n\n{self._marks()}{'#' * level} {text}\n\n")
            else:
                self.out.append("\n\n")
        elif tag in ("td", "th"):
            self.out.append(" |")
        elif tag == "tr" and not self.cells:
            row = self.tables[-1] if self.tables else [1, 0]
            if row[0] == 0 and row[1]:  # a header row: Markdown's separator line under it
                self.out.append("\n|" + " --- |" * row[1])
            row[0] += 1
            row[1] = 0
        elif self.cells:
            if tag in BLOCK_TAGS or tag == "li":
                self.out.append(" ")
        elif tag == "li":
            self.out.append("\n")
        elif tag in BLOCK_TAGS or tag == "table":
            self.out.append("\n\n")

    def _fence(self, body: str) -> None:
        self.pre = None
        fence = "```"
        while fence in body:  # a body holding ``` gets a longer fence, as CommonMark allows
            fence += "`"
        self.fences.append(f"{fence}\n{body}\n{fence}")
        index = len(self.fences) - 1
        self.out.append(f"\n\n{self._marks()}{_FENCE}{index}{_FENCE_END}\n\n")

    # -- text

    def data(self, data: str) -> None:
        """Text (libxml2 may hand one run of text over in several calls)."""
        data = data.translate(_OWN_MARKS)
        if self.in_title:
            self.title.append(data)
        if not self.emitting:
            return
        if self.pre is not None:
            self.pre.append(data)
        elif self.heading is not None:
            self.heading[1].append(data)
        else:
            if self.cells:
                data = data.replace("\n", " ")
            elif self.tables and not data.strip():
                return  # the source's line breaks between cells would split a row
            if self.in_item and data.strip():
                self.in_item = False
            if self.pending and data.strip():
                stripped = data.lstrip()
                data = data[: len(data) - len(stripped)] + self._marks() + stripped
            self.out.append(data)

    def close(self) -> None:
        """The page ended (``etree.HTMLParser.close`` returns what this returns)."""


def _collect(html: str, main_level: int) -> _TextCollector:
    collector = _TextCollector(main_level)
    # No tree is built, so libxml2's tree limits (256 levels, 10 MB text nodes) do not
    # apply (tests/unit/ingest/test_html_parser.py); MAX_DEPTH bounds the stack here.
    parser = etree.HTMLParser(target=collector, no_network=True)
    try:
        parser.feed(html)
        parser.close()
    except etree.LxmlError as error:  # recovering libxml2 rarely gives up; name the reason
        raise IngestError(f"unreadable HTML ({type(error).__name__})") from error
    return collector


def html_to_text(html: str) -> HtmlText:
    """The page's main content as Markdown, and its anchors, in time linear in its size.

    Args:
        html: the page source.

    Returns:
        Text with paragraphs separated by blank lines (empty when the page has no text),
        and the ``(offset, id)`` anchors in it.

    Raises:
        FileRefused: the page nests more than ``MAX_DEPTH`` elements.
    """
    lowered = html.lower()
    level = 1 if _HAS_MAIN.search(lowered) else 2 if _HAS_ARTICLE.search(lowered) else 0
    collector = _collect(html, level)
    if level and (not collector.seen_main or not "".join(collector.out).strip()):
        collector = _collect(html, 0)  # the marks were in a script or the content empty
    cleaned = "\n".join(
        _SPACES.sub(" ", line).strip() for line in "".join(collector.out).split("\n")
    )
    text = tidy_blank_lines(cleaned)
    title = " ".join("".join(collector.title).split())
    if title and not collector.has_h1 and text:
        text = f"# {title}\n\n{text}"
    fences = collector.fences
    text = _FENCES.sub(lambda match: fences[int(match.group(1))], text)
    pieces: list[str] = []
    anchors: list[tuple[int, str]] = []
    length = position = 0
    for match in _MARKS.finditer(text):
        piece = text[position : match.start()]
        pieces.append(piece)
        length += len(piece)
        anchors.append((length, collector.ids[int(match.group(1))]))
        position = match.end()
    pieces.append(text[position:])
    return HtmlText("".join(pieces), tuple(anchors))


def html_to_markdown(html: str) -> str:
    """The page's main content as Markdown (``html_to_text`` without the anchors)."""
    return html_to_text(html).text
