"""The libxml2 (lxml) path of the HTML extraction on hostile and malformed pages.

``html_text`` reads pages with libxml2's HTML tokenizer as a target parser (no tree): these
pin what that choice must keep (no limit of libxml2's tree on depth or text size, forged
marks and escape sequences treated as text) and what it changed on purpose (HTML5's newline
normalisation, which the git docs' CRLF pages needed).
"""

from __future__ import annotations

import pytest

from chat_tui.domain.text import clean_text
from chat_tui.errors import IngestError
from chat_tui.ingest.html_text import MAX_DEPTH, html_to_text
from chat_tui.ingest.loaders import load_html


def test_nesting_beyond_libxml2s_tree_limit_keeps_the_text_below() -> None:
    # libxml2 refuses trees deeper than 256 (2,048 with XML_PARSE_HUGE): no tree is built.
    page = "<div>" * 5_000 + "<p>bottom text</p>" + "</div>" * 5_000 + "<p>after</p>"
    assert html_to_text(page).text == "bottom text\n\nafter"


def test_unclosed_nesting_past_max_depth_is_refused_with_a_reason() -> None:
    with pytest.raises(IngestError, match="nested deeper than"):
        html_to_text("<b>" * (MAX_DEPTH + 1) + "x")


def test_a_text_node_over_libxml2s_10_mb_limit_is_kept_whole() -> None:
    words = "word " * 2_200_000  # 11 MB in one text node and one line
    text = html_to_text(f"<main><h1>Big</h1><p>{words}end</p></main>").text
    assert text.startswith("# Big\n\nword word") and text.endswith("word end")
    assert len(text) == len("# Big\n\n") + len(words) + len("end")


def test_escape_sequences_stay_text_and_clean_text_removes_them() -> None:
    page = (
        "<main><h1 id='t'>Title\x1b]0;PWN\x07</h1>"
        "<p>raw \x1b[2J and referenced &#x1b;[31m red</p></main>"
    )
    document = load_html(page.encode())
    assert document.anchors == ((0, "t"),)
    assert "raw \x1b[2J and" in document.text  # stored as written: cleaned where it is shown
    shown = clean_text(document.text)
    assert "\x1b" not in shown and "\x07" not in shown
    assert "raw  and referenced  red" in shown.replace("[31m", "")


def test_marks_forged_through_character_references_are_removed() -> None:
    # The private-use marks html_text places while it works, written as references.
    page = '<main><p id="a&#xe000;0&#xe001;">x &#xe000;0&#xe001; y &#xe002;0&#xe003;</p></main>'
    page_text = html_to_text(page)
    assert page_text.text == "x 0 y 0"
    assert page_text.anchors == ((0, "a0"),)


def test_crlf_pages_give_lf_text_and_whole_table_rows() -> None:
    # The git docs' admonitions: a CRLF file kept stray \r and split the row's cells.
    page = (
        '<div class="admonitionblock">\r\n<table><tr>\r\n<td class="icon">\r\n'
        '<div class="title">Note</div>\r\n</td>\r\n<td class="content">The build is\r\n'
        "parallelizable.</td>\r\n</tr></table>\r\n</div>\r\n<pre>a\r\nb\rc</pre>"
    )
    text = html_to_text(page).text
    assert "\r" not in text
    assert text == "| Note | The build is parallelizable. |\n\n```\na\nb\nc\n```"


def test_nul_and_unterminated_tags_do_not_stop_the_page() -> None:
    text = html_to_text("<p>before\x00after</p><p>kept <b class='never closed").text
    assert text.splitlines()[0] == "before\ufffdafter"  # NUL replaced, as HTML5 does
    assert "\x00" not in text and "kept" in text


def test_tags_inside_title_and_textarea_are_text_not_markup() -> None:
    text = html_to_text(
        "<title>T <b>bold</b></title><p>body</p><textarea><script>x</script></textarea>"
    ).text
    assert text == "# T <b>bold</b>\n\nbody\n\n<script>x</script>"
