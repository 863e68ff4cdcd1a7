"""Loaders: the right text comes out of each file type, and bad files give one-line reasons."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from chat_tui.errors import IngestError
from chat_tui.ingest.loaders import decode_text, load_document, read_file_bytes
from tests.support.corpus import FACTS, GBK_TEXT, SMALL_MAX_FILE_MB, make_corpus, make_pdf


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def load(path: Path, *, allow_images: bool = False):  # type: ignore[no-untyped-def]
    return load_document(path, read_file_bytes(path, SMALL_MAX_FILE_MB), allow_images=allow_images)


def reason(path: Path, max_mb: float = SMALL_MAX_FILE_MB, allow_images: bool = False) -> str:
    with pytest.raises(IngestError) as caught:
        load_document(path, read_file_bytes(path, max_mb), allow_images=allow_images)
    return str(caught.value)


def test_markdown_is_kept_verbatim(corpus: dict[str, Path]) -> None:
    document = load(corpus["english_md"])
    assert document.kind == "markdown"
    assert document.has_lines
    assert document.text == corpus["english_md"].read_text(encoding="utf-8")


def test_gbk_chinese_file_decodes(corpus: dict[str, Path]) -> None:
    raw = corpus["gbk_txt"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the file really is GBK
    document = load(corpus["gbk_txt"])
    assert document.text == GBK_TEXT
    assert FACTS["gbk_txt"] in document.text


def test_short_gbk_text_is_read_as_chinese_not_korean() -> None:
    assert decode_text("短文本测试。".encode("gbk")) == "短文本测试。"


def test_utf16_with_bom_and_utf8_with_bom(corpus: dict[str, Path], tmp_path: Path) -> None:
    assert load(corpus["utf16"]).text.startswith(FACTS["utf16"])
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + "Grüße aus Köln".encode())
    assert load(bom).text == "Grüße aus Köln"


def test_windows_newlines_become_plain(tmp_path: Path) -> None:
    path = tmp_path / "crlf.md"
    path.write_bytes(b"# Title\r\n\r\nBody line.\r\n")
    assert load(path).text == "# Title\n\nBody line.\n"


def test_html_keeps_text_and_headings_and_drops_scripts(corpus: dict[str, Path]) -> None:
    document = load(corpus["html"])
    assert document.kind == "markdown" and not document.has_lines
    assert FACTS["html"] in document.text
    assert "# Strange Animals" in document.text.splitlines()
    assert "## Habitat" in document.text.splitlines()
    assert "- Moist leaf litter" in document.text
    for gone in (
        "SCRIPT-TEXT-MUST-VANISH",
        "another script",
        "secret-style",
        "NAVIGATION-LINK-MUST-VANISH",
    ):
        assert gone not in document.text
    assert "They live in tropical forests.\n\nSecond paragraph." in document.text


def test_html_pre_becomes_a_fence(tmp_path: Path) -> None:
    path = tmp_path / "code.html"
    path.write_text("<h1>T</h1><p>See:</p><pre>def f():\n    return 1</pre>", encoding="utf-8")
    assert "```\ndef f():\n    return 1\n```" in load(path).text


def test_pdf_gives_one_text_per_page(corpus: dict[str, Path]) -> None:
    document = load(corpus["pdf"])
    assert document.kind == "pages"
    assert len(document.pages) == 2
    assert FACTS["pdf_page_1"] in document.pages[0]
    assert FACTS["pdf_page_2"] in document.pages[1]


def test_docx_headings_become_markdown_headings(corpus: dict[str, Path]) -> None:
    text = load(corpus["docx"]).text
    lines = text.splitlines()
    assert "# Maritime Inventions" in lines
    assert "## Clocks" in lines
    assert FACTS["docx"] in lines
    assert "sextant | 1731" in lines


def test_json_and_csv_are_text(tmp_path: Path) -> None:
    data = tmp_path / "data.json"
    data.write_text(
        json.dumps({"city": "Oslo", "event": "capybara festival"}, indent=2), encoding="utf-8"
    )
    table = tmp_path / "table.csv"
    table.write_text("name,city\nAda,London\n", encoding="utf-8")
    assert load(data).kind == "lines" and '"city": "Oslo"' in load(data).text
    assert load(table).text == "name,city\nAda,London\n"


def test_code_gets_its_language(tmp_path: Path) -> None:
    path = tmp_path / "main.go"
    path.write_text("package main\n\nfunc main() {}\n", encoding="utf-8")
    document = load(path)
    assert (document.kind, document.language) == ("code", "go")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("binary", "binary"), ("empty", "empty"), ("whitespace", "empty")],
)
def test_bad_files_give_reasons(corpus: dict[str, Path], name: str, expected: str) -> None:
    assert reason(corpus[name]) == expected


def test_too_large_is_checked_before_reading(corpus: dict[str, Path]) -> None:
    with pytest.raises(IngestError, match=r"^too large \(0\.13 MB > 0\.06 MB\)$"):
        read_file_bytes(corpus["large"], SMALL_MAX_FILE_MB)


def test_undecodable_bytes_are_binary(tmp_path: Path) -> None:
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes([0x80, 0xFF, 0xFE, 0x81, 0x9F, 0xC0]) * 50)
    assert reason(path) == "binary"


def test_unknown_extension_is_sniffed_text_in_binary_out(tmp_path: Path) -> None:
    text = tmp_path / "notes.xyz"
    text.write_text("plain words in an odd file", encoding="utf-8")
    assert load(text).kind == "text" and "plain words" in load(text).text
    archive = tmp_path / "archive.xyz"
    archive.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    assert reason(archive) == "binary or unsupported type (.xyz)"


def test_corrupt_pdf_and_docx_are_parse_failures(tmp_path: Path) -> None:
    pdf = tmp_path / "broken.pdf"
    pdf.write_bytes(make_pdf(["fine"])[:60])
    docx = tmp_path / "broken.docx"
    docx.write_bytes(b"PK\x03\x04 not really a zip")
    assert reason(pdf).startswith("parse failure (corrupt PDF")
    assert reason(docx).startswith("parse failure (corrupt DOCX")


def test_directory_named_like_a_file_is_unreadable(tmp_path: Path) -> None:
    folder = tmp_path / "notes.txt"
    folder.mkdir()
    with pytest.raises(IngestError, match=r"^unreadable"):
        read_file_bytes(folder, 1.0)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_permission_denied_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("x", encoding="utf-8")
    path.chmod(0)
    with pytest.raises(IngestError, match=r"^unreadable \(permission denied\)$"):
        read_file_bytes(path, 1.0)


def test_images_need_a_multimodal_embedder(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    assert reason(path) == "image (needs a multimodal embedder)"
    document = load(path, allow_images=True)
    assert document.kind == "image"
    assert document.image is not None and document.image.startswith(
        "data:image/png;base64,iVBORw0KGgo"
    )


# ---------------------------------------------------------------- hostile files


def test_text_is_recognised_by_content_whatever_the_name(tmp_path: Path) -> None:
    names = ["README.SSL", "README.api", "LICENSE", "Makefile", "Dockerfile", "setup.cfg"]
    names += ["tox.ini", "pyproject.toml", "ci.yaml", "run.sh", "notes.whatever", "CHANGES.1"]
    for name in names:
        path = tmp_path / name
        path.write_text(f"all: words about {name}\n\tmore text\n", encoding="utf-8")
        assert f"words about {name}" in load(path).text, name
    escapes = tmp_path / "short.notes"
    escapes.write_text("# T \x1b]0;PWN\x07\x1b[2J\n\nhi\n", encoding="utf-8")
    assert "hi" in load(escapes).text  # escape sequences do not make text binary
    blob = tmp_path / "data.bin2"
    blob.write_bytes(os.urandom(4096).replace(b"\x00", b"\x01"))
    assert reason(blob).startswith("binary")


def test_deep_html_is_linear_or_refused(tmp_path: Path) -> None:
    from chat_tui.ingest.html_text import MAX_DEPTH, html_to_markdown

    deep = "<div>" * 100_000 + "<p>bottom text</p>" + "</div>" * 100_000
    assert "bottom text" in html_to_markdown(deep)  # seconds, not hours (see bench/)
    unclosed = "<span>" * (MAX_DEPTH + 5) + "x"
    with pytest.raises(IngestError, match="nested deeper"):
        html_to_markdown(unclosed)
    stray = "</div>" * 50_000 + "<h2>Kept</h2><p>after strays</p>"
    assert "## Kept" in html_to_markdown(stray) and "after strays" in html_to_markdown(stray)


def test_zip_bomb_docx_is_refused_before_extraction(tmp_path: Path) -> None:
    import zipfile

    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(300):  # 300 MB that compress to ~300 kB
                member.write(block)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    assert reason(bomb, max_mb=5).startswith("too large unpacked")


def test_a_fifo_swapped_in_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "late.md"
    os.mkfifo(fifo)
    assert reason(fifo) == "a FIFO"  # returns: opened non-blocking, checked on the fd
    with pytest.raises(IngestError, match="device"):
        read_file_bytes(Path("/dev/zero"), 1)


def test_pdf_text_comes_from_pdfium_and_what_it_cannot_open_goes_to_pypdf(
    tmp_path: Path,
) -> None:
    import pypdf

    from chat_tui.ingest.loaders import _pdfium_pages

    data = make_pdf(["Otters hold hands.", "Wombats dig."])
    pages = _pdfium_pages(data)
    assert pages is not None and "Otters hold hands." in pages[0]
    # A password PDFium does not have: pypdf names the reason, as before.
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    locked = io.BytesIO()
    writer.write(locked)
    assert _pdfium_pages(locked.getvalue()) is None
    path = tmp_path / "locked.pdf"
    path.write_bytes(locked.getvalue())
    assert reason(path) == "encrypted PDF"
    assert _pdfium_pages(data[:60]) is None  # damaged: pypdf says "corrupt" (test above)
