"""A small mixed document corpus for ingest tests: every loader, every skip, every ignore rule.

``make_corpus(root)`` writes real files (a hand-built PDF, a DOCX written by python-docx, a
GBK-encoded Chinese text, a UTF-16 file, ...) and returns them by name. ``FACTS`` holds one
distinctive sentence per document so tests can check the text made it through. Files under
``.git/``, ``node_modules/`` and the ``.gitignore``d ones must be skipped silently; the
binary, empty and oversized files must be skipped with a reason (set
``ingest.max_file_mb`` below ``LARGE_FILE_BYTES`` in tests).
"""

from __future__ import annotations

from pathlib import Path

FACTS: dict[str, str] = {
    "english_md": "The capybara festival happens in Oslo.",
    "english_md_2": "Glaciers in Patagonia hum at night.",
    "english_md_3": "The lighthouse keeper collects brass keys.",
    "chinese_md": "北京的烤鸭节在每年十月举行。",
    "chinese_md_2": "上海的图书馆在周二免费开放！",
    "gbk_txt": "杭州的西湖边有一家百年茶馆。",
    "python": "def compute_orbital_period",
    "html": "Velvet worms shoot slime from their heads.",
    "pdf_page_1": "The violin museum is in Cremona.",
    "pdf_page_2": "Penguins propose with pebbles.",
    "docx": "The tide clock was invented in Lisbon.",
    "utf16": "Das Schloss liegt über dem Fluss.",
}

#: Size of the oversized file; tests set ``ingest.max_file_mb`` to ``SMALL_MAX_FILE_MB``.
LARGE_FILE_BYTES = 128 * 1024
#: A ``max_file_mb`` that lets every corpus file but the oversized one through (~61 kB).
SMALL_MAX_FILE_MB = 0.06

ENGLISH_MARKDOWN = f"""# Field Guide

An introduction to the guide.

## Festivals

{FACTS["english_md"]} People bring oranges and sing.

### Music

The bands play until dawn.

## Nature

{FACTS["english_md_2"]} Scientists record the sound.

```python
def hum(glacier):
    # A fence must stay whole.
    return glacier.frequency * 2
```

## Coast

{FACTS["english_md_3"]} Each key opens a different door.
"""

CHINESE_MARKDOWN = f"""# 城市指南

## 北京

{FACTS["chinese_md"]}游客很多。你去过吗？

## 上海

{FACTS["chinese_md_2"]}很多学生在那里学习。真是太好了！
"""

GBK_TEXT = (
    f"{FACTS['gbk_txt']}茶馆的老板每天早上六点开门。"
    "来喝茶的客人大多是附近的居民！他们喜欢在这里聊天、下棋。"
    "你知道这家茶馆的名字吗？它叫做湖畔居。"
)

PYTHON_SOURCE = f'''"""Orbital helpers."""

import math

GRAVITY = 6.674e-11


{FACTS["python"]}(mass: float, radius: float) -> float:
    """Seconds per orbit."""
    return 2 * math.pi * math.sqrt(radius**3 / (GRAVITY * mass))


class Satellite:
    """A body in orbit."""

    def __init__(self, name: str) -> None:
        self.name = name

    def describe(self) -> str:
        return f"satellite {{self.name}}"


@staticmethod
def escape_velocity(mass: float, radius: float) -> float:
    return math.sqrt(2 * GRAVITY * mass / radius)
'''

HTML_PAGE = f"""<!doctype html>
<html><head><title>Strange Animals</title>
<style>body {{ color: red; }} .secret-style {{ display: none; }}</style>
<script>var trackingSecret = "SCRIPT-TEXT-MUST-VANISH";</script>
</head>
<body>
<nav><a href="/">NAVIGATION-LINK-MUST-VANISH</a></nav>
<h1>Strange Animals</h1>
<p>{FACTS["html"]}</p>
<h2>Habitat</h2>
<p>They live in tropical forests.</p><p>Second paragraph.</p>
<ul><li>Moist leaf litter</li><li>Rotting logs</li></ul>
<script>console.log("another script");</script>
</body></html>
"""


def _pdf_text_stream(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"BT /F1 14 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")


def make_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page (written by hand)."""
    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for index, text in enumerate(pages):
        content_id = page_ids[index] + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>".encode()
        )
        stream = _pdf_text_stream(text)
        objects.append(
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def make_docx(path: Path) -> None:
    """A DOCX with a title, headings, paragraphs and a table (python-docx writes it)."""
    import docx

    document = docx.Document()
    document.add_heading("Maritime Inventions", level=1)
    document.add_paragraph("An overview of clever tools.")
    document.add_heading("Clocks", level=2)
    document.add_paragraph(FACTS["docx"])
    document.add_heading("Ropes", level=2)
    document.add_paragraph("Sailors braid ropes from hemp.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "tool"
    table.cell(0, 1).text = "year"
    table.cell(1, 0).text = "sextant"
    table.cell(1, 1).text = "1731"
    document.save(str(path))


def make_corpus(root: Path) -> dict[str, Path]:
    """Write the mixed corpus under ``root`` and return its files by name.

    Ingestable: english_md, chinese_md, gbk_txt, python, html, pdf, docx, utf16.
    Skipped with a reason: binary, empty, whitespace, large (needs a small ``max_file_mb``).
    Skipped silently: in_git, in_node_modules, ignored, in_venv, hidden.
    """
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def write(name: str, relative: str, data: bytes | str, encoding: str = "utf-8") -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
        files[name] = path

    write("english_md", "docs/guide.md", ENGLISH_MARKDOWN)
    write("chinese_md", "docs/城市.md", CHINESE_MARKDOWN)
    write("gbk_txt", "docs/teahouse-gbk.txt", GBK_TEXT, encoding="gbk")
    write("python", "src/orbits.py", PYTHON_SOURCE)
    write("html", "web/animals.html", HTML_PAGE)
    write("pdf", "papers/facts.pdf", make_pdf([FACTS["pdf_page_1"], FACTS["pdf_page_2"]]))
    write(
        "utf16",
        "docs/schloss.txt",
        "\ufeff" + FACTS["utf16"] + "\nZweite Zeile.\n",
        encoding="utf-16-le",
    )
    docx_path = root / "office" / "inventions.docx"
    docx_path.parent.mkdir(parents=True, exist_ok=True)
    make_docx(docx_path)
    files["docx"] = docx_path

    write("binary", "data/blob.txt", bytes(range(256)) * 4)
    write("empty", "docs/empty.md", b"")
    write("whitespace", "docs/blank.txt", "   \n\n\t\n")
    write(
        "large",
        "docs/huge.txt",
        ("A long line of filler text. " * 40 + "\n") * (LARGE_FILE_BYTES // 1120 + 1),
    )

    write("in_git", ".git/config.txt", "git internals must not be ingested")
    write("in_node_modules", "web/node_modules/pkg/readme.md", "# Package\n\nnode modules stay out")
    write("in_venv", "tools/env/lib/site.py", "print('venv')")
    (root / "tools" / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    write("hidden", ".cache/notes.md", "# Hidden\n\nhidden folders stay out")
    write("ignored", "build/output.md", "# Build\n\nignored by .gitignore")
    write("ignored_nested", "docs/drafts/todo.md", "# Draft\n\nignored by a nested .gitignore")
    (root / ".gitignore").write_text("build/\n*.tmp\n", encoding="utf-8")
    (root / "docs" / ".gitignore").write_text("drafts/\n", encoding="utf-8")
    return files


#: Names of the corpus files that ingest stores.
INGESTED = ("english_md", "chinese_md", "gbk_txt", "python", "html", "pdf", "docx", "utf16")
#: Names of the corpus files skipped with a reason, and the reason's first word.
SKIPPED_WITH_REASON = {
    "binary": "binary",
    "empty": "empty",
    "whitespace": "empty",
    "large": "too large",
}
#: Names of the corpus files the walk never reports.
SILENTLY_IGNORED = ("in_git", "in_node_modules", "in_venv", "hidden", "ignored", "ignored_nested")
