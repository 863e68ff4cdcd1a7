"""Find a document's structure: sections (with heading paths) made of blocks.

This is the first half of chunking: it decides where a chunk may end (between paragraphs,
fences, definitions, lines) and which heading path each part sits under. The second half,
``chat_tui.ingest.chunking``, packs the blocks into chunks of the right size. Blocks are
offsets into the text, so chunks stay exact slices with true line numbers.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RST_ADORNMENT = re.compile(r"^([=\-`:'\"~^_*+#<>.!$%&(),/;?@\[\\\]{|}])\1{2,}[ \t]*$")
_RST_LITERAL = re.compile(r"^\.\. (?:code-block|code|sourcecode|literalinclude)::")
_DEFINITION = re.compile(
    r"^(?:(?:export|default|pub(?:\([^)]*\))?|async|static|public|private|protected|internal"
    r"|abstract|final|inline|unsafe|extern|override|open|sealed|suspend)\s+)*"
    r"(?P<keyword>def|class|function|func|fn|impl|struct|enum|trait|interface|type|module|mod"
    r"|const|let|var|package|namespace|object|sub|proc|fun|val|record|union|typedef)\b"
    r"[ \t*]*(?:\([^)]*\)\s*)?(?P<name>[A-Za-z_$][\w$]*)?"
)
_COMMENT_STARTS = ("#", "//", "/*", "*", "--", ";", "'''", '"""', "@")


@dataclass(frozen=True)
class Block:
    """A span of text that a chunk boundary should not cut unless it must.

    Attributes:
        start / end: offsets into the text.
        kind: "heading", "para", "fence", "code" or "line".
        label: for code, the definition it holds ("def load"), else "".
    """

    start: int
    end: int
    kind: str
    label: str = ""


@dataclass
class Section:
    """Blocks under one heading path.

    Attributes:
        heading: "A > B", or "" before the first heading and for headless text.
        blocks: the blocks in order.
        overlap: whether consecutive chunks of this section overlap (off for code, whose
            chunks start at definitions; a definition cut in pieces still overlaps).
        code: whether chunk headings should name the definitions they hold.
    """

    heading: str
    blocks: list[Block] = field(default_factory=list)
    overlap: bool = True
    code: bool = False


class _Lines:
    """The text's lines with their offsets, for building blocks from line ranges."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self.offsets: list[int] = []
        position = 0
        for line in self.lines:
            self.offsets.append(position)
            position += len(line) + 1

    def block(self, first: int, last: int, kind: str, label: str = "") -> Block | None:
        """A block over lines ``first..last`` (0-based, inclusive), whitespace trimmed."""
        while first < last and not self.lines[first].strip():
            first += 1
        start = self.offsets[first]
        end = self.offsets[last] + len(self.lines[last])
        if kind not in ("fence", "code"):
            while start < end and self.text[start].isspace():
                start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return Block(start, end, kind, label) if start < end else None


def segment(kind: str, text: str, language: str = "") -> list[Section]:
    """The sections of ``text`` for a document of ``kind`` (see ``LoadedDocument.kind``)."""
    if kind == "markdown":
        return _merge_heading_only(_markdown(text))
    if kind == "rst":
        return _merge_heading_only(_rst(text))
    if kind == "code":
        return [_code(text, language)]
    if kind == "lines":
        return [_by_lines(text)]
    return [_paragraphs(text)]


def _paragraphs(text: str) -> Section:
    lines = _Lines(text)
    section = Section("")
    first: int | None = None
    for number, line in enumerate([*lines.lines, ""]):
        if line.strip():
            first = number if first is None else first
        elif first is not None:
            _add(section, lines.block(first, number - 1, "para"))
            first = None
    return section


def _by_lines(text: str) -> Section:
    lines = _Lines(text)
    section = Section("")
    for number, line in enumerate(lines.lines):
        if line.strip():
            _add(section, lines.block(number, number, "line"))
    return section


def _add(section: Section, block: Block | None) -> None:
    if block is not None:
        section.blocks.append(block)


class _Outline:
    """Sections under a stack of headings, as a Markdown or RST walk finds them."""

    def __init__(self) -> None:
        self.sections: list[Section] = [Section("")]
        self.stack: list[tuple[int, str]] = []

    def heading(self, level: int, title: str, block: Block | None) -> None:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, title))
        self.sections.append(Section(" > ".join(name for _, name in self.stack)))
        _add(self.sections[-1], block)

    def add(self, block: Block | None) -> None:
        _add(self.sections[-1], block)


def _markdown(text: str) -> list[Section]:
    lines = _Lines(text)
    outline = _Outline()
    rows = lines.lines
    paragraph: int | None = None

    def close(upto: int) -> None:
        nonlocal paragraph
        if paragraph is not None:
            outline.add(lines.block(paragraph, upto - 1, "para"))
            paragraph = None

    number = 0
    while number < len(rows):
        line = rows[number]
        fence = _FENCE.match(line)
        if fence:
            close(number)
            marker = fence.group(1)
            closing = re.compile(rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
            last = number + 1
            while last < len(rows) and not closing.match(rows[last]):
                last += 1
            last = min(last, len(rows) - 1)
            outline.add(lines.block(number, last, "fence"))
            number = last + 1
            continue
        atx = _ATX.match(line)
        if atx and atx.group(2).strip():
            close(number)
            outline.heading(
                len(atx.group(1)), atx.group(2).strip(), lines.block(number, number, "heading")
            )
        elif not line.strip():
            close(number)
        elif paragraph is not None and paragraph == number - 1 and _SETEXT.match(line):
            title = rows[number - 1].strip()
            paragraph = None
            level = 1 if line.strip().startswith("=") else 2
            outline.heading(level, title, lines.block(number - 1, number, "heading"))
        elif paragraph is None:
            paragraph = number
        number += 1
    close(len(rows))
    return outline.sections


def _rst(text: str) -> list[Section]:
    lines = _Lines(text)
    rows = lines.lines
    outline = _Outline()
    styles: list[tuple[str, bool]] = []
    paragraph: int | None = None
    literal_next = False

    def level_of(style: tuple[str, bool]) -> int:
        if style not in styles:
            styles.append(style)
        return styles.index(style) + 1

    def close(upto: int) -> None:
        nonlocal paragraph, literal_next
        if paragraph is not None:
            outline.add(lines.block(paragraph, upto - 1, "para"))
            literal_next = rows[upto - 1].rstrip().endswith("::") or bool(
                _RST_LITERAL.match(rows[paragraph])
            )
            paragraph = None

    number = 0
    while number < len(rows):
        line = rows[number]
        below = rows[number + 1] if number + 1 < len(rows) else ""
        after = rows[number + 2] if number + 2 < len(rows) else ""
        if (
            paragraph is None
            and _RST_ADORNMENT.match(line)
            and below.strip()
            and (_RST_ADORNMENT.match(after) and after.strip()[0] == line.strip()[0])
        ):
            close(number)
            level = level_of((line.strip()[0], True))
            outline.heading(level, below.strip(), lines.block(number, number + 2, "heading"))
            number += 3
            continue
        if (
            paragraph is None
            and line.strip()
            and not line[0].isspace()
            and _RST_ADORNMENT.match(below)
        ):
            level = level_of((below.strip()[0], False))
            outline.heading(level, line.strip(), lines.block(number, number + 1, "heading"))
            number += 2
            continue
        if not line.strip():
            close(number)
        elif literal_next and paragraph is None and line[0].isspace():
            last = number
            while last + 1 < len(rows) and (
                not rows[last + 1].strip() or rows[last + 1][0].isspace()
            ):
                last += 1
            outline.add(lines.block(number, last, "fence"))
            literal_next = False
            number = last + 1
            continue
        elif paragraph is None:
            paragraph = number
            literal_next = False
        number += 1
    close(len(rows))
    return outline.sections


def _merge_heading_only(sections: list[Section]) -> list[Section]:
    """A heading with nothing under it but subsections rides along with its first subsection."""
    merged: list[Section] = []
    carried: list[Block] = []
    for position, section in enumerate(sections):
        blocks = carried + section.blocks
        carried = []
        following = sections[position + 1] if position + 1 < len(sections) else None
        only_headings = bool(blocks) and all(block.kind == "heading" for block in blocks)
        if (
            only_headings
            and following is not None
            and (section.heading == "" or following.heading.startswith(section.heading + " > "))
        ):
            carried = blocks
            continue
        if blocks:
            merged.append(Section(section.heading, blocks, section.overlap, section.code))
    return merged


# ----------------------------------------------------------------------------- code


def python_definitions(text: str) -> list[tuple[int, str]] | None:
    """(0-based first line, label) of each top-level statement, or None if it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found: list[tuple[int, str]] = []
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            label = f"def {node.name}"
        elif isinstance(node, ast.ClassDef):
            label = f"class {node.name}"
        else:
            label = ""
        found.append((first - 1, label))
    return found


def _is_comment(line: str) -> bool:
    return bool(line.strip()) and line.lstrip().startswith(_COMMENT_STARTS)


def _generic_definitions(rows: list[str]) -> list[tuple[int, str]]:
    """Top-level starts by heuristics: column-0 definitions, or column-0 lines after a blank."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(rows):
        if not line.strip() or line[0].isspace() or line[0] in "})]":
            continue
        match = _DEFINITION.match(line)
        after_blank = number == 0 or not rows[number - 1].strip()
        if match or after_blank:
            label = ""
            if match and match.group("name"):
                label = f"{match.group('keyword')} {match.group('name')}"
            found.append((number, label))
    return found


def _code(text: str, language: str) -> Section:
    lines = _Lines(text)
    rows = lines.lines
    starts = python_definitions(text) if language == "python" else None
    if starts is None:
        starts = _generic_definitions(rows)
    # Comments directly above a definition belong to it.
    bounded: list[tuple[int, str]] = []
    for first, label in starts:
        while first > 0 and _is_comment(rows[first - 1]) and not rows[first - 1][0].isspace():
            first -= 1
        while bounded and bounded[-1][0] >= first:
            earlier = bounded.pop()
            label = label or earlier[1]
        bounded.append((first, label))
    section = Section("", overlap=False, code=True)
    if not bounded or bounded[0][0] > 0:
        bounded.insert(0, (0, ""))
    for position, (first, label) in enumerate(bounded):
        last = bounded[position + 1][0] - 1 if position + 1 < len(bounded) else len(rows) - 1
        if last >= first:
            _add(section, lines.block(first, last, "code", label))
    return section
