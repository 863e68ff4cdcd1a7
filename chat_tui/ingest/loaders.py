"""Turn a file's bytes into text the chunker understands, or a one-line reason to skip it.

Each supported type gets its own loader; all of them return a ``LoadedDocument`` whose
``kind`` tells the chunker how to split it (Markdown by headings, code by top-level
definitions, prose by paragraphs, PDFs per page). Files that cannot be ingested raise
``IngestError`` with a short reason that the pipeline reports as a skip, never as a crash:
``FileRefused`` ("binary", "empty", "too large (...)", ...) for files skipped by policy,
plain ``IngestError`` for files that failed to read or parse.

A file whose name no loader knows is sniffed: if its first bytes decode as text it is
ingested as text (``README.SSL``, ``NOTES.api``, ``.conf`` files...), otherwise it is binary.
ZIP-based formats (DOCX) are checked before extraction: a declared uncompressed size or a
compression ratio above ``MAX_UNPACKED_MB`` / ``MAX_ZIP_RATIO`` is refused (zipfile never
inflates a member past its declared size, so the declaration bounds the work). pypdf and
python-docx are imported only when a file of their type turns up.

Compressed text (``.gz``, ``.bz2``, ``.xz``) is inflated in a stream with a cap of
``max_file_mb`` on the *decompressed* size, so a bomb costs at most that much memory and
gives a one-line skip; the inner name (``README.md.gz`` -> ``README.md``) picks the loader.
"""

from __future__ import annotations

import base64
import bz2
import io
import logging
import lzma
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chat_tui.domain.attachments import sniff_image_type
from chat_tui.errors import IngestError
from chat_tui.ingest.manpage import is_man_name
from chat_tui.ingest.report import FileRefused, file_type_name

#: Largest total uncompressed size of a ZIP-based document.
MAX_UNPACKED_MB = 256
#: Largest uncompressed/compressed ratio of a ZIP-based document (text XML zips ~10:1).
MAX_ZIP_RATIO = 200
#: Bytes looked at to tell text from binary.
SNIFF_BYTES = 8192

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mdx"})
RST_SUFFIXES = frozenset({".rst", ".rest"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ".log", ".org", ".adoc", ".tex", ""})
LINE_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".csv", ".tsv"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}

#: Source code extensions and the language name the chunker's heuristics use.
CODE_LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".scala": "scala",
    ".swift": "swift",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".lua": "lua",
    ".pl": "perl",
    ".pm": "perl",
    ".r": "r",
    ".jl": "julia",
    ".dart": "dart",
    ".ex": "elixir",
    ".exs": "elixir",
    ".erl": "erlang",
    ".hs": "haskell",
    ".ml": "ocaml",
    ".clj": "clojure",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".fish": "shell",
    ".ps1": "powershell",
    ".sql": "sql",
    ".vue": "vue",
    ".svelte": "svelte",
    ".css": "css",
    ".scss": "css",
    ".less": "css",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".ini": "ini",
    ".cfg": "ini",
    ".xml": "xml",
    ".proto": "protobuf",
    ".gradle": "groovy",
    ".groovy": "groovy",
    ".tf": "terraform",
    ".nix": "nix",
    ".zig": "zig",
}
#: Files known by their whole name rather than their suffix.
CODE_NAMES = {
    "Makefile": "make",
    "Dockerfile": "docker",
    "Justfile": "make",
    "CMakeLists.txt": "cmake",
}

_CJK_ENCODINGS = frozenset(
    {
        "big5",
        "big5hkscs",
        "cp949",
        "euc_kr",
        "johab",
        "shift_jis",
        "cp932",
        "euc_jp",
        "iso2022_jp",
        "iso2022_kr",
        "cp950",
        "hz",
    }
)


@dataclass(frozen=True)
class LoadedDocument:
    """A file's content, ready to chunk.

    Attributes:
        kind: how to split it: "markdown", "rst", "text", "lines", "code", "pages" or "image".
        text: the text (for every kind but "pages" and "image").
        pages: one text per PDF page, in order (kind "pages").
        language: the programming language (kind "code"), e.g. "python".
        has_lines: whether line numbers in ``text`` are the file's own (False for text
            rebuilt from HTML or DOCX, whose chunks then carry no line range).
        image: a base64 ``data:`` URI (kind "image").
        anchors: ``(offset, id)`` pairs, sorted by offset: where in ``text`` each HTML
            ``id`` anchor starts, so a chunk knows the nearest anchor above it
            (``page.html#id`` opens the spot). Empty for formats without anchors.
        summary: what the whole document is about in a line (a man page's NAME line),
            carried on every chunk for BM25 (``Chunk.summary``); "" for most formats.
    """

    kind: str
    text: str = ""
    pages: tuple[str, ...] = ()
    language: str = ""
    has_lines: bool = True
    image: str | None = None
    anchors: tuple[tuple[int, str], ...] = ()
    summary: str = ""


def read_file_bytes(path: Path, max_file_mb: float) -> bytes:
    """The file's bytes, or ``IngestError`` when it is too large, not regular or unreadable.

    Opened without following a final link and without blocking (a FIFO swapped in after
    the walk never blocks), checked to be a regular file on the open descriptor, and read
    at most ``max_file_mb`` (a file that grows while read is refused, not read on).
    """
    limit = int(max_file_mb * 1024 * 1024)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        raise IngestError("unreadable (permission denied)") from None
    except FileNotFoundError:
        raise IngestError("unreadable (file vanished)") from None
    except OSError as error:
        if error.errno == 40:  # ELOOP: the file became a link after the walk
            raise FileRefused("a symlink (not followed)") from None
        raise IngestError(f"unreadable ({error.strerror or error})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IngestError("unreadable (a directory)")
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(file_type_name(info.st_mode))
        if info.st_size > limit:
            raise FileRefused(
                f"too large ({info.st_size / 1024 / 1024:.2f} MB > {max_file_mb:g} MB)"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise FileRefused(f"too large (grew past {max_file_mb:g} MB while read)")
        return data
    except IngestError:
        raise
    except OSError as error:
        raise IngestError(f"unreadable ({error.strerror or error})") from None
    finally:
        os.close(fd)


def looks_like_text(data: bytes) -> bool:
    """Whether the first bytes of ``data`` read as text (any encoding ``decode_text`` knows)."""
    sample = data[:SNIFF_BYTES]
    if not sample.strip():
        return False
    try:
        text = decode_text(sample[: len(sample) - 3] if len(data) > SNIFF_BYTES else sample)
    except IngestError:
        return False
    return not _mostly_controls(text)


def _mostly_controls(text: str) -> bool:
    """Random bytes decoded by some codec are full of controls and replacement marks."""
    if not text:
        return False
    # ESC, BEL and backspace are left out: text with escape sequences is still text (it is
    # cleaned before it is shown); random bytes have plenty of the other controls.
    odd = sum(1 for ch in text if (ch < " " and ch not in "\t\n\r\f\x1b\x07\x08") or ch == "\ufffd")
    return odd > len(text) * 0.05


def decode_text(data: bytes) -> str:
    """Decode text whatever its encoding: UTF-8 (BOM or not), UTF-16/32 with a BOM, GBK, ...

    Raises:
        IngestError: "binary" for NUL bytes or bytes no encoding explains.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data, "utf-8-sig")
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return _strict(data, "utf-32")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16")
    if b"\x00" in data[:SNIFF_BYTES]:
        raise FileRefused("binary")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise FileRefused("binary")
    encoding = best.encoding
    # Short Chinese texts are often taken for Big5 or Korean; this project's users mostly
    # write Chinese, so a GB18030 reading that decodes cleanly wins among the CJK codecs.
    if encoding in _CJK_ENCODINGS:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            pass
    return str(best)


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise FileRefused("binary") from None


def _require_text(text: str) -> str:
    if not text.strip():
        raise FileRefused("empty")
    return text


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _load_plain(kind: str) -> Callable[[bytes, str], LoadedDocument]:
    def load(data: bytes, language: str) -> LoadedDocument:
        text = _require_text(_normalise_newlines(decode_text(data)))
        if _mostly_controls(text[:SNIFF_BYTES]):
            raise FileRefused("binary")
        return LoadedDocument(kind=kind, text=text, language=language)

    return load


def load_html(data: bytes, language: str = "") -> LoadedDocument:
    """The main content of an HTML page as Markdown, with where its ``id`` anchors start.

    Navigation, sidebars, footers and ``¶`` links are dropped (see ``html_text``).
    """
    from chat_tui.ingest.html_text import html_to_text

    page = html_to_text(decode_text(data))
    return LoadedDocument(
        kind="markdown", text=_require_text(page.text), has_lines=False, anchors=page.anchors
    )


def load_man(data: bytes, name: str) -> LoadedDocument:
    """A roff man page rendered with its sections as headings; not roff: plain text.

    Line ranges are lines of the rendered text (groff) or of the roff source (fallback);
    see ``chat_tui.ingest.manpage``.
    """
    from chat_tui.ingest.manpage import looks_like_roff, render_man, summary_of

    text = _normalise_newlines(decode_text(data))
    if not looks_like_roff(text):
        return _load_plain("text")(data, "")
    rendered = _require_text(render_man(text, name))
    return LoadedDocument(kind="markdown", text=rendered, summary=summary_of(rendered))


def _pdfium_pages(data: bytes) -> tuple[str, ...] | None:
    """Each page's text by PDFium (pypdfium2), or None when it cannot read the file.

    PDFium is C++ (Chrome's PDF engine): Debian's 261-page reference took 0.46 s here
    against 37 s with pypdf (bench/bench_ingest.py probe under load), most of that
    corpus's ingest. None (no wheel, encrypted, damaged) leaves the file to pypdf,
    which says why it is refused.
    """
    try:
        import pypdfium2
    except ImportError:
        return None
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        return None
    try:
        pages: list[str] = []
        for index in range(len(document)):
            page = document[index]
            text_page = page.get_textpage()
            try:
                # PDFium marks a word hyphenated across lines with U+0002 ("distri\x02
                # bution"): joined, it is the word a question says.
                text = text_page.get_text_bounded().replace("\x02", "")
                pages.append(_normalise_newlines(text))
            finally:
                text_page.close()
                page.close()
        return tuple(pages)
    except pypdfium2.PdfiumError:
        return None
    finally:
        document.close()


def load_pdf(data: bytes, language: str = "") -> LoadedDocument:
    """One text per page; a PDF without extractable text is reported empty."""
    pages = _pdfium_pages(data)
    if pages is None:
        pages = _pypdf_pages(data)
    if not any(page.strip() for page in pages):
        raise FileRefused("empty (no extractable text)")
    return LoadedDocument(kind="pages", pages=pages, has_lines=False)


def _pypdf_pages(data: bytes) -> tuple[str, ...]:
    """Each page's text by pypdf (pure Python: slow, but it names what is wrong)."""
    import pypdf
    from pypdf.errors import PyPdfError

    # pypdf logs every repaired cross-reference; the skip reason says enough.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise FileRefused("encrypted PDF")
        return tuple(_normalise_newlines(page.extract_text() or "") for page in reader.pages)
    except IngestError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        raise IngestError(f"parse failure (corrupt PDF: {type(error).__name__})") from None


_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def load_docx(data: bytes, language: str = "") -> LoadedDocument:
    """Paragraphs and tables in order; paragraphs styled as headings become headings."""
    import docx
    from docx.table import Table

    check_zip_size(data, "DOCX")
    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in item.rows]
                blocks.append("\n".join(row for row in rows if row.strip(" |")))
                continue
            text = item.text.strip()
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            match = _HEADING_STYLE.match(style)
            if style.lower() == "title":
                blocks.append(f"# {text}")
            elif match:
                blocks.append(f"{'#' * min(int(match.group(1)), 6)} {text}")
            else:
                blocks.append(text)
    except Exception as error:  # noqa: BLE001 - python-docx raises many types on bad zips/XML
        raise IngestError(f"parse failure (corrupt DOCX: {type(error).__name__})") from None
    return LoadedDocument(kind="markdown", text=_require_text("\n\n".join(blocks)), has_lines=False)


def check_zip_size(data: bytes, kind: str = "ZIP") -> None:
    """Refuse a ZIP whose members would inflate past ``MAX_UNPACKED_MB`` or ``MAX_ZIP_RATIO``.

    Raises:
        FileRefused: too big when unpacked (a zip bomb, or just too big to take).
        IngestError: not a readable ZIP at all.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise IngestError(f"parse failure (corrupt {kind}: {type(error).__name__})") from None
    unpacked = sum(member.file_size for member in members)
    packed = max(1, sum(member.compress_size for member in members))
    if unpacked > MAX_UNPACKED_MB * 1024 * 1024:
        raise FileRefused(
            f"too large unpacked ({unpacked / 1024 / 1024:,.0f} MB > {MAX_UNPACKED_MB} MB)"
        )
    if unpacked > 1024 * 1024 and unpacked / packed > MAX_ZIP_RATIO:
        raise FileRefused(
            f"compression ratio {unpacked / packed:,.0f}:1 above {MAX_ZIP_RATIO}:1 (zip bomb?)"
        )


def load_image(data: bytes, mime: str) -> LoadedDocument:
    """A data URI for a multimodal embedder; the type is the content's, not the name's."""
    if not data:
        raise FileRefused("empty")
    sniffed = sniff_image_type(data[:16])
    if sniffed is None:
        raise FileRefused("not an image (the content is not PNG, JPEG or WebP)")
    encoded = base64.b64encode(data).decode("ascii")
    return LoadedDocument(kind="image", image=f"data:{sniffed};base64,{encoded}")


#: Compressed-file suffixes and the name of their format in error messages.
COMPRESSED_SUFFIXES = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
_INFLATE_STEP = 1024 * 1024


def inner_path(path: Path) -> Path:
    """The name a compressed file had before compression (``a.md.gz`` -> ``a.md``)."""
    return path.with_name(path.stem) if path.suffix.lower() in COMPRESSED_SUFFIXES else path


def decompress(path: Path, data: bytes, max_file_mb: float) -> bytes:
    """The inflated bytes of a ``.gz``/``.bz2``/``.xz`` file, at most ``max_file_mb`` of them.

    Inflated step by step with a cap, so memory stays bounded by the cap whatever the
    ratio; concatenated members/streams are all read.

    Raises:
        FileRefused: "too large once decompressed" past the cap.
        IngestError: a corrupt or truncated archive.
    """
    kind = COMPRESSED_SUFFIXES[path.suffix.lower()]
    limit = int(max_file_mb * 1024 * 1024)
    out = bytearray()
    pending = data
    try:
        while pending:
            if kind == "gzip":
                inflater: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif kind == "bzip2":
                inflater = bz2.BZ2Decompressor()
            else:
                inflater = lzma.LZMADecompressor()
            feed = pending
            while not inflater.eof:
                room = limit + 1 - len(out)
                chunk = inflater.decompress(feed, min(room, _INFLATE_STEP))
                out += chunk
                if len(out) > limit:
                    raise FileRefused(f"too large once decompressed (> {max_file_mb:g} MB)")
                feed = inflater.unconsumed_tail if kind == "gzip" else b""
                if not chunk and not feed and (kind == "gzip" or inflater.needs_input):
                    raise IngestError(f"parse failure (truncated {kind} file)")
            pending = inflater.unused_data
            if not pending.strip(b"\0"):  # trailing padding after the last member
                break
    except IngestError:
        raise
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as error:
        raise IngestError(f"parse failure (corrupt {kind} file: {type(error).__name__})") from None
    return bytes(out)


def loader_for(path: Path) -> tuple[Callable[[bytes, str], LoadedDocument], str] | None:
    """The loader for ``path`` and its language argument, or None for unsupported types."""
    suffix = path.suffix.lower()
    if path.name in CODE_NAMES:
        return _load_plain("code"), CODE_NAMES[path.name]
    if suffix in MARKDOWN_SUFFIXES:
        return _load_plain("markdown"), ""
    if is_man_name(path.name):
        return load_man, path.name
    if suffix in RST_SUFFIXES:
        return _load_plain("rst"), ""
    if suffix in CODE_LANGUAGES:
        return _load_plain("code"), CODE_LANGUAGES[suffix]
    if suffix in LINE_SUFFIXES:
        return _load_plain("lines"), suffix.lstrip(".")
    if suffix in HTML_SUFFIXES:
        return load_html, ""
    if suffix == ".pdf":
        return load_pdf, ""
    if suffix == ".docx":
        return load_docx, ""
    if suffix in IMAGE_TYPES:
        return load_image, IMAGE_TYPES[suffix]
    if suffix in TEXT_SUFFIXES:
        return _load_plain("text"), ""
    return None


def is_image(path: Path) -> bool:
    """Whether ``path`` is an image type that only a multimodal embedder can use."""
    return path.suffix.lower() in IMAGE_TYPES


def load_document(
    path: Path, data: bytes, *, allow_images: bool, max_file_mb: float = 20.0
) -> LoadedDocument:
    """Load ``data`` (the bytes of ``path``) with the loader its type calls for.

    Args:
        path: the file (its name picks the loader; a compressed file's inner name).
        data: its bytes, already read.
        allow_images: whether the embedder is multimodal and can take images.
        max_file_mb: the most a compressed file may inflate to.

    Raises:
        IngestError: the file should be skipped; the message is the reason.
    """
    if path.suffix.lower() in COMPRESSED_SUFFIXES:
        if not data.strip():
            raise FileRefused("empty")
        data = decompress(path, data, max_file_mb)
        path = inner_path(path)
    found = loader_for(path)
    if not data.strip():
        raise FileRefused("empty")
    if found is None:
        if not looks_like_text(data):
            raise FileRefused(f"binary or unsupported type ({path.suffix or path.name})")
        found = _load_plain("text"), ""
    loader, argument = found
    if is_image(path) and not allow_images:
        raise FileRefused("image (needs a multimodal embedder)")
    return loader(data, argument)
