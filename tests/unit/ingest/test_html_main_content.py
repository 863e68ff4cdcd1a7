"""HTML pages are read as their main content: chrome dropped, headings clean, anchors placed."""

from __future__ import annotations

from pathlib import Path

from chat_tui.ingest.loaders import LoadedDocument, load_document, read_file_bytes

SPHINX_PAGE = """<!DOCTYPE html>
<html><head><title>os &#8212; Python docs</title><script>var junk = 1;</script></head>
<body>
<div class="related" role="navigation" aria-label="related navigation">
  <h3>Navigation</h3><ul><li><a href="genindex.html">index</a></li>
  <li><a href="io.html" title="previous chapter">previous</a> |</li></ul>
</div>
<div class="document"><div class="documentwrapper"><div class="bodywrapper">
<div class="body" role="main">
<section id="module-os">
<span id="os-misc"></span><h1>os &#8212; Miscellaneous interfaces<a class="headerlink"
 href="#module-os" title="Permalink to this heading">&#182;</a></h1>
<p>This module provides a portable way of using the operating system.</p>
<section id="files-and-directories">
<h2>Files and Directories<a class="headerlink" href="#files-and-directories">&#182;</a></h2>
<dl class="py function">
<dt class="sig sig-object py" id="os.open"><span class="pre">os.open</span>(path)<a
 class="headerlink" href="#os.open">&#182;</a></dt>
<dd><p>Open the file <em>path</em> and return its descriptor.</p></dd>
</dl>
<div class="highlight"><pre>fd = os.open("x", os.O_RDONLY)
os.close(fd)</pre></div>
<table><thead><tr><th><p>Mode</p></th><th><p>Meaning</p></th></tr></thead>
<tbody><tr><td><p>r</p></td><td><p>read</p></td></tr></tbody></table>
</section></section>
</div></div></div>
<div class="sphinxsidebar" role="navigation" aria-label="main navigation">
  <h3>This Page</h3><ul><li><a href="bugs.html">Report a Bug</a></li>
  <li><a href="_sources/os.rst.txt">Show Source</a></li></ul>
  <div role="search"><form><input name="q"></form>Quick search</div>
</div></div>
<div class="footer">&copy; Copyright 2001-2023, Python Software Foundation.</div>
</body></html>
"""


def _load(tmp_path: Path, name: str, html: str) -> LoadedDocument:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return load_document(path, read_file_bytes(path, 20.0), allow_images=False)


def _anchor_at(document: LoadedDocument, anchor: str) -> str:
    offsets = [offset for offset, name in document.anchors if name == anchor]
    assert offsets, (anchor, document.anchors)
    return document.text[offsets[0] :]


def test_sphinx_page_keeps_its_body_and_drops_sidebar_related_footer_and_pilcrows(
    tmp_path: Path,
) -> None:
    document = _load(tmp_path, "os.html", SPHINX_PAGE)
    text = document.text
    assert text.startswith("# os — Miscellaneous interfaces\n")
    assert "## Files and Directories\n" in text
    assert "Open the file path and return its descriptor." in text
    assert '```\nfd = os.open("x", os.O_RDONLY)\nos.close(fd)\n```' in text
    assert "| Mode | Meaning |\n| --- | --- |\n| r | read |" in text
    for junk in (
        "¶",
        "This Page",
        "Report a Bug",
        "Show Source",
        "Navigation",
        "previous",
        "Quick search",
        "Copyright",
        "var junk",
    ):
        assert junk not in text, junk


def test_anchors_point_at_where_their_element_starts_in_the_text(tmp_path: Path) -> None:
    document = _load(tmp_path, "os.html", SPHINX_PAGE)
    assert [offset for offset, _ in document.anchors] == sorted(
        offset for offset, _ in document.anchors
    )
    assert _anchor_at(document, "module-os").startswith("# os — Miscellaneous")
    assert _anchor_at(document, "os-misc").startswith("# os — Miscellaneous")  # span before h1
    assert _anchor_at(document, "files-and-directories").startswith("## Files and Directories")
    assert _anchor_at(document, "os.open").startswith("os.open(path)")
    names = {name for _, name in document.anchors}
    assert "q" not in names  # ids in dropped chrome are not anchors


def test_role_navigation_header_footer_and_breadcrumbs_dropped_without_a_main(
    tmp_path: Path,
) -> None:
    page = """<html><body>
    <header><a href="/">Site logo</a></header>
    <div role="navigation">Home | Docs | Blog</div>
    <ol class="breadcrumb"><li>Docs</li><li>Guide</li></ol>
    <h1 id="top">Guide</h1><p>The real <b>content</b> of the guide.</p>
    <a name="later"></a><p>More content, later.</p>
    <a rel="next" href="b.html">Next page</a>
    <footer>All rights reserved</footer>
    <div id="footer">Last updated 2024</div>
    </body></html>"""
    document = _load(tmp_path, "guide.html", page)
    assert document.text.startswith("# Guide\n\nThe real content of the guide.")
    assert "More content, later." in document.text
    for junk in ("Site logo", "Home | Docs", "Docs\n", "Next page", "rights", "Last updated"):
        assert junk not in document.text, junk
    assert _anchor_at(document, "top").startswith("# Guide")
    assert _anchor_at(document, "later").startswith("More content, later.")


def test_main_element_is_all_that_is_kept_and_article_headers_stay(tmp_path: Path) -> None:
    page = """<html><body><div class="menu">Menu entries</div>
    <main><article><header><h1>Post title</h1></header><p>Post body.</p></article></main>
    <aside>Related posts</aside></body></html>"""
    document = _load(tmp_path, "post.html", page)
    assert document.text == "# Post title\n\nPost body."


def test_marks_in_a_script_do_not_empty_the_page(tmp_path: Path) -> None:
    page = "<html><body><script>x = '<main>'</script><p>Visible text.</p></body></html>"
    assert "Visible text." in _load(tmp_path, "s.html", page).text


def test_hostile_headings_ids_and_fences(tmp_path: Path) -> None:
    page = (
        "<h1 id='t'>&lt;script&gt; \x1b[2J C# &#182;</h1>"
        "<h2>## Fake level <a class='anchor' href='#x'>#</a></h2>"
        "<p id='bad id'>spaces in id</p>"
        "<p id='\ue0000\ue001'>forged mark</p>"
        "<pre>has ``` inside</pre>"
    )
    document = _load(tmp_path, "h.html", page)
    assert document.text.startswith("# <script> \x1b[2J C#\n")  # cleaned where shown
    assert "## Fake level\n" in document.text
    assert "````\nhas ``` inside\n````" in document.text
    assert "\ue000" not in document.text and "\ue001" not in document.text
    # The page's own private-use marks are removed, so they forge nothing: id "0" is plain.
    assert {name for _, name in document.anchors} == {"t", "0"}
    assert _anchor_at(document, "0").startswith("forged mark")


def test_deep_nesting_and_a_huge_line_stay_linear(tmp_path: Path) -> None:
    deep = '<main><div id="d">' * 1 + "<div>" * 100_000 + "<p>bottom</p>" + "</div>" * 100_000
    document = _load(tmp_path, "deep.html", deep + "</div></main>")
    assert document.text == "bottom" and document.anchors == ((0, "d"),)
    huge = "<p id='h'>" + "word " * 1_000_000 + "</p>"
    document = _load(tmp_path, "huge.html", huge)
    assert document.text.startswith("word word") and document.anchors == ((0, "h"),)


def test_pages_built_to_make_the_rules_backtrack_stay_linear(tmp_path: Path) -> None:
    # Each of these took tens of seconds at 20k repetitions before the rules were bounded.
    classes = _load(tmp_path, "c.html", "<p>" + "class=" * 100_000 + "</p>")
    assert classes.text.startswith("class=class=")
    heading = _load(tmp_path, "h.html", "<h2>" + "# " * 100_000 + "x ¶</h2><p>body</p>")
    assert heading.text.startswith("## x\n\nbody")
