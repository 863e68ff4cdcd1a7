"""Every chunk knows where it is: anchor, heading without permalink marks, root, no fragments."""

from __future__ import annotations

from pathlib import Path

from chat_tui.ingest.chunking import chunk_document, is_tiny, strip_anchor_marks
from chat_tui.ingest.loaders import LoadedDocument
from chat_tui.ingest.pipeline import root_of


def _page(sections: list[tuple[str, str, str]]) -> LoadedDocument:
    """A Markdown text like the HTML reader makes, with an anchor at each heading."""
    text = ""
    anchors: list[tuple[int, str]] = []
    for anchor, title, body in sections:
        anchors.append((len(text), anchor))
        text += f"## {title}\n\n{body.format(title=title)}\n\n"
    return LoadedDocument(kind="markdown", text=text, has_lines=False, anchors=tuple(anchors))


def test_each_chunk_gets_the_nearest_anchor_above_it() -> None:
    body = " ".join(f"Sentence {n} about {{title}} goes on." for n in range(30))
    document = _page(
        [("intro", "Intro", body), ("os.stat", "Stat", body), ("os.walk", "Walk", body)]
    )
    chunks = chunk_document(document, source="/d/os.html", file_hash="h", chunk_tokens=120)
    assert len(chunks) > 3
    by_heading = {c.heading: c.anchor for c in chunks}
    assert by_heading == {"Intro": "intro", "Stat": "os.stat", "Walk": "os.walk"}
    for chunk in chunks:  # the anchor is at or above the chunk's start
        offset = dict((a, o) for o, a in document.anchors)[chunk.anchor]
        assert offset <= document.text.index(chunk.text)


def test_text_before_the_first_anchor_has_none() -> None:
    text = (
        "Preamble words that come before any anchor at all, long enough.\n\n"
        "## Later\n\nMore words under the later heading, enough to stand."
    )
    document = LoadedDocument(
        kind="markdown", text=text, has_lines=False, anchors=((text.index("## Later"), "later"),)
    )
    chunks = chunk_document(document, source="/d/p.html", file_hash="h", chunk_tokens=12)
    assert chunks[0].anchor == ""
    assert chunks[-1].anchor == "later"


def test_anchor_with_escape_sequences_is_made_safe() -> None:
    document = _page([("x\x1b[31mred", "Title", "Body text long enough to be a chunk of its own.")])
    (chunk,) = chunk_document(document, source="/d/p.html", file_hash="h")
    assert "\x1b" not in chunk.anchor and "red" in chunk.anchor


def test_permalink_marks_leave_headings() -> None:
    assert (
        strip_anchor_marks("Library ¶ > Files and Directories ¶")
        == "Library > Files and Directories"
    )
    assert strip_anchor_marks("Install # > Linux #") == "Install > Linux"
    assert strip_anchor_marks("C# > Basics") == "C# > Basics"  # '#' inside a word stays
    document = LoadedDocument(kind="markdown", text="# Files ¶\n\n" + "Some body text here. " * 5)
    (chunk,) = chunk_document(document, source="/d/a.md", file_hash="h")
    assert chunk.heading == "Files"


def test_fragments_merge_into_the_following_chunk_of_their_section() -> None:
    text = (
        "# Guide\n\n"
        + "A paragraph that says a lot about the guide. " * 3
        + "\n\n## See also\n\nls(1)\n"
    )
    document = LoadedDocument(kind="markdown", text=text)
    chunks = chunk_document(document, source="/d/g.md", file_hash="h")
    assert not any(is_tiny(c.text) for c in chunks)
    assert chunks[-1].text.endswith("ls(1)")
    assert chunks[-1].line_end == text.rstrip("\n").count("\n") + 1


def test_two_chunks_of_one_section_have_different_labels() -> None:
    text = "# Long\n\n" + "\n\n".join(f"Paragraph {n} with a few words in it." for n in range(40))
    chunks = chunk_document(
        LoadedDocument(kind="markdown", text=text), source="/d/l.md", file_hash="h", chunk_tokens=60
    )
    labels = [c.citation().label() for c in chunks]
    assert len(chunks) > 2 and len(set(labels)) == len(labels)


def test_root_is_the_folder_given_or_a_named_files_parent(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    page = docs / "sub" / "page.md"
    page.write_text("# Page\n\nEnough words in this page to make a chunk.\n")
    assert root_of(page, [docs]) == str(docs)
    assert root_of(page, [page]) == str(docs / "sub")
    assert root_of(page, [tmp_path, docs]) == str(docs)  # the deepest folder given
    chunk = chunk_document(
        LoadedDocument(kind="markdown", text=page.read_text()),
        source=str(page),
        file_hash="h",
        root=root_of(page, [docs]),
    )[0]
    assert chunk.citation().location == "sub/page.md"
