"""HTML pages reduced to what a reader came for, with anchors that locate each chunk."""

from __future__ import annotations

from pathlib import Path

from chat_tui.ingest.chunking import chunk_document
from chat_tui.ingest.html_text import html_to_text
from chat_tui.ingest.loaders import load_html

SPHINX_PAGE = """<!DOCTYPE html><html><head><title>os — Miscellaneous interfaces</title>
<script>var x = "searchindex";</script><style>.x{}</style></head><body>
<div class="related" role="navigation" aria-label="Related">
  <ul><li><a href="io.html">previous</a> |</li><li><a href="sys.html">next</a></li></ul></div>
<div class="document"><div class="documentwrapper"><div class="bodywrapper">
<div class="body" role="main">
<section id="module-os"><h1>os — Miscellaneous interfaces
<a class="headerlink" href="#module-os">¶</a></h1>
<p>This module provides a portable way of using operating system dependent functionality.</p>
<section id="files-and-directories"><h2>Files and Directories
<a class="headerlink" href="#files-and-directories">¶</a></h2>
<dl class="py function"><dt class="sig" id="os.stat">os.stat(path)
<a class="headerlink" href="#os.stat">¶</a></dt>
<dd><p>Get the status of a file or a file descriptor.</p></dd></dl>
<dl class="py function"><dt class="sig" id="os.chmod">os.chmod(path, mode)</dt>
<dd><p>Change the mode of path to the numeric mode.</p></dd></dl>
</section></section></div></div></div>
<div class="sphinxsidebar" role="navigation" aria-label="main navigation">
  <h3>This Page</h3><ul><li><a href="bugs.html">Report a Bug</a></li>
  <li><a href="_sources/os.rst.txt">Show Source</a></li></ul></div></div>
<div class="footer">&copy; Copyright 2001-2023, Python Software Foundation.</div>
</body></html>"""


def html_to_document(html: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    page = html_to_text(html)
    return page.text, page.anchors


def test_sphinx_page_keeps_its_body_and_drops_the_chrome() -> None:
    text, _ = html_to_document(SPHINX_PAGE)
    assert text.startswith("# os — Miscellaneous interfaces\n")
    assert "## Files and Directories\n" in text
    assert "Get the status of a file" in text
    for chrome in ("previous", "This Page", "Report a Bug", "Show Source", "Copyright", "¶"):
        assert chrome not in text, chrome
    assert "searchindex" not in text


def test_anchors_point_at_the_spot_they_name() -> None:
    text, anchors = html_to_document(SPHINX_PAGE)
    found = dict((anchor, offset) for offset, anchor in anchors)
    assert text[found["files-and-directories"] :].startswith("## Files and Directories")
    assert text[found["os.stat"] :].startswith("os.stat(path)")
    assert text[found["os.chmod"] :].startswith("os.chmod(path, mode)")
    assert [offset for offset, _ in anchors] == sorted(offset for offset, _ in anchors)


def test_a_page_without_a_main_element_drops_navigation_by_role_and_class() -> None:
    page = """<body><div role="navigation">Home | Docs</div><div class="navheader">
    <a href="ch01.html">Prev</a></div><div class="toc"><a href="#a">1. Intro</a></div>
    <h1 id="a">Intro</h1><p>Real words here.</p>
    <div class="navfooter"><a href="ch02.html">Next</a></div></body>"""
    text, anchors = html_to_document(page)
    assert text == "# Intro\n\nReal words here."
    assert anchors == ((0, "a"),)


def test_chunks_carry_the_nearest_anchor_above_them() -> None:
    sections = "".join(
        f'<section id="part-{n}"><h2>Part {n}</h2><p>{"word " * 400}</p></section>'
        for n in range(3)
    )
    document = load_html(f"<main>{sections}</main>".encode())
    chunks = chunk_document(document, source="/docs/page.html", file_hash="h", root="/docs")
    assert {c.anchor for c in chunks} == {"part-0", "part-1", "part-2"}
    for chunk in chunks:
        assert chunk.heading.endswith(f"Part {chunk.anchor[-1]}")
        assert chunk.root == "/docs"
    label = chunks[-1].citation().label()
    assert label.startswith("page.html#part-2 > ")


def test_hostile_anchor_ids_and_marker_characters_are_not_trusted(tmp_path: Path) -> None:
    page = (
        '<main><h1 id="x&quot; onload=&quot;evil">T</h1>'
        '<p id="ok">a\ue000fake\ue001 b</p><h2 id="\x1b]0;PWN\x07">U</h2></main>'
    )
    text, anchors = html_to_document(page)
    assert [anchor for _, anchor in anchors] == ["ok"]
    assert "\ue000" not in text and "\ue001" not in text and "afake b" in text
