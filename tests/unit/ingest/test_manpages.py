"""Man pages: rendered with their sections as headings, by groff or the fallback, safely."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from chat_tui.ingest.chunking import chunk_document
from chat_tui.ingest.loaders import load_document
from chat_tui.ingest.manpage import render_fallback, render_groff, render_man

PAGE = (
    '.\\" a comment that must not show\n'
    ".TH LS 1 2022 coreutils 用户命令\n"
    ".SH 名称\n"
    "ls \\- 列出目录内容\n"
    ".SH 选项\n"
    ".TP\n"
    "\\fB\\-a\\fR, \\fB\\-\\-all\\fP\n"
    "不要忽略以点号起始的条目，这一段足够长，可以单独成为一个块的内容。\n"
    ".SH DESCRIPTION\n"
    ".B ls\n"
    "lists information about the files \\(em the current directory by default.\n"
)


def _chunks(path: Path) -> list[str]:
    document = load_document(path, path.read_bytes(), allow_images=False)
    return [c.heading for c in chunk_document(document, source=str(path), file_hash="h")]


def test_fallback_reads_sections_and_escapes() -> None:
    text = render_fallback(PAGE, "ls.1")
    assert "# ls(1)" in text and "## 名称" in text and "## 选项" in text
    assert "-a, --all" in text and "\\f" not in text and "—" in text
    assert "comment" not in text
    # One output line per source line: line numbers are the roff source's.
    assert len(text.split("\n")) == len(PAGE.split("\n"))


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff not installed")
def test_groff_renders_sections_as_headings() -> None:
    rendered = render_groff(PAGE)
    assert rendered is not None and "名称" in rendered
    text = render_man(PAGE, "ls.1")
    assert text.startswith("# ls(1)") and "## 选项" in text and "## DESCRIPTION" in text
    assert "\\f" not in text


def test_a_gzipped_page_gets_section_headings(tmp_path: Path) -> None:
    path = tmp_path / "ls.1.gz"
    path.write_bytes(gzip.compress(PAGE.encode()))
    headings = _chunks(path)
    assert "ls(1) > 选项" in headings
    assert all(h.startswith("ls(1)") for h in headings)


def test_a_dot_one_file_that_is_not_roff_is_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.1"
    path.write_text("Plain notes for release one, nothing roff about them at all.\n")
    document = load_document(path, path.read_bytes(), allow_images=False)
    assert document.kind == "text"


@pytest.mark.parametrize("use_groff", [True, False])
def test_file_and_program_requests_are_neither_read_nor_run(
    tmp_path: Path, use_groff: bool
) -> None:
    if use_groff and shutil.which("groff") is None:
        pytest.skip("groff not installed")
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-MARKER\n")
    touched = tmp_path / "touched"
    hostile = (
        ".TH EVIL 1\n.SH NAME\nevil \\- page\n"
        f".so {secret}\n.cf {secret}\n.nx {secret}\n.mso {secret}\n"
        f".sy touch {touched}\n.pso cat {secret}\n"
        f".ds x so\n.\\*x {secret}\n"
        ".SH DESCRIPTION\nStill here after the requests.\n"
    )
    text = render_man(hostile, "evil.1") if use_groff else render_fallback(hostile, "evil.1")
    assert "SECRET-MARKER" not in text
    assert not touched.exists()
    assert "Still here" in text


def test_escape_in_the_title_does_not_reach_the_heading(tmp_path: Path) -> None:
    page = '.TH "\x1b[31mRED\x1b]0;pwn\x07" 1\n.SH NAME\nred \\- \x1b[2Jtitle test page words\n'
    path = tmp_path / "red.1"
    path.write_bytes(page.encode())
    document = load_document(path, path.read_bytes(), allow_images=False)
    assert "\x1b" not in document.text and "\x07" not in document.text
    chunks = chunk_document(document, source=str(path), file_hash="h")
    assert all("\x1b" not in c.heading and "\x1b" not in c.text for c in chunks)


MDOC_PAGE = (
    ".Dd $Mdocdate: July 27 2021 $\n"
    ".Dt SSH 1\n"
    ".Os\n"
    ".Sh NAME\n"
    ".Nm ssh\n"
    ".Nd OpenSSH 远程登录客户端\n"
    ".Sh DESCRIPTION\n"
    ".Nm\n"
    "is a program for logging into a remote machine and for executing commands.\n"
)


@pytest.mark.parametrize("use_groff", [True, False])
def test_an_mdoc_page_is_rendered_with_section_headings(
    tmp_path: Path, use_groff: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenSSH's pages are mdoc (.Dd/.Sh/.Nm), not man (.TH/.SH): once read as plain
    # text, they were indexed as raw macros under no heading.
    if use_groff and shutil.which("groff") is None:
        pytest.skip("groff not installed")
    if not use_groff:
        monkeypatch.setenv("PATH", str(tmp_path))  # no groff: the fallback renders
    path = tmp_path / "ssh.1.gz"
    path.write_bytes(gzip.compress(MDOC_PAGE.encode()))
    document = load_document(path, path.read_bytes(), allow_images=False)
    assert document.kind == "markdown"
    assert "## NAME" in document.text and "## DESCRIPTION" in document.text
    assert ".Nd" not in document.text and ".Sh" not in document.text
    assert "OpenSSH 远程登录客户端" in document.summary and "ssh" in document.summary
    headings = [c.heading for c in chunk_document(document, source=str(path), file_hash="h")]
    assert headings and all(h.startswith("ssh(1)") for h in headings)


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff not installed")
def test_a_page_that_ends_conditional_blocks_is_rendered_by_groff() -> None:
    # grep's page closes ``.if n \{`` blocks with ``.\}`` lines; those name no request,
    # so the page goes to groff, not to the fallback (one source line per output line).
    page = PAGE.replace(".SH 选项\n", ".SH 选项\n.if n \\{\\\n.ds x y\n.\\}\n")
    assert render_man(page, "ls.1") == render_man(PAGE, "ls.1")
    assert render_man(page, "ls.1") != render_fallback(page, "ls.1")


def test_every_chunk_of_a_page_carries_its_name_line(tmp_path: Path) -> None:
    path = tmp_path / "ls.1"
    path.write_text(PAGE + ".SH 另见\n更多内容请参阅完整的文档，这一段也足够长，可以单独成块。\n")
    document = load_document(path, path.read_bytes(), allow_images=False)
    assert document.summary == "ls - 列出目录内容"
    chunks = chunk_document(document, source=str(path), file_hash="h", chunk_tokens=40)
    assert len(chunks) > 1
    assert {c.summary for c in chunks} == {"ls - 列出目录内容"}
    # Only BM25 reads it: the heading path and the passage text are unchanged.
    assert "ls(1) > 选项" in [c.heading for c in chunks]


def test_a_page_without_a_name_section_has_no_summary(tmp_path: Path) -> None:
    path = tmp_path / "x.1"
    path.write_text(".TH X 1\n.SH DESCRIPTION\nA page that never says what it is called.\n")
    document = load_document(path, path.read_bytes(), allow_images=False)
    assert document.summary == ""
    assert {c.summary for c in chunk_document(document, source=str(path), file_hash="h")} == {""}
