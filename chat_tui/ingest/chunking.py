"""Split loaded documents into chunks that follow their structure and fit the token budget.

A retrieval hit is only as useful as the chunk it lands on, so chunks follow the document:
Markdown and reStructuredText by headings (each chunk keeps its heading path "A > B"), then
paragraphs and code fences (a fence is never cut unless it alone exceeds the budget); code by
top-level definitions (``ast`` for Python, column-0 heuristics for other languages); prose by
paragraphs, then sentences (English ``. ! ?`` and Chinese ``。！？``). Consecutive chunks of
the same section overlap by about ``overlap`` tokens. Fragments under ``TINY_CHARS``
characters (a lone heading, "See also") are merged into a neighbour: alone they match
queries by accident and say nothing.

Every chunk knows where it is: a heading path without permalink marks, a line range (for
files whose lines are their own), a page (PDF), and the nearest HTML ``id`` anchor.

Every chunk is an exact slice of the loaded text, so its 1-based line range points at the
right lines of the file. Sizes use the one estimate (``chat_tui.domain.tokens``), so the chat
side, the chunker and the embedders count alike: one token per CJK character, one per four
ASCII characters, one per two of other alphabets.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from chat_tui.domain.text import clean_line
from chat_tui.domain.tokens import char_quarters, count_cjk, estimate_tokens, is_cjk
from chat_tui.ingest.loaders import LoadedDocument
from chat_tui.ingest.segments import Block, Section, segment
from chat_tui.retrieval.types import Chunk

_SENTENCE_END = re.compile(r"[。！？]+[」』”’\"')）\]]*|[.!?]+[”’\"')\]]*(?=\s)")
_MAX_LABELS = 3
#: Chunks with fewer characters than this (and fewer than ``TINY_CJK`` CJK characters, so
#: a short Chinese paragraph, dense with meaning, stays) are merged into a neighbour.
TINY_CHARS = 40
TINY_CJK = 10


@dataclass(frozen=True)
class Piece:
    """A span of the text the packer treats as one unit.

    Attributes:
        start / end: offsets into the text (``text[start:end]``).
        tokens: its estimated size.
        atomic: never cut for overlap (a whole code fence or a whole definition).
        by_lines: cut for overlap at line starts rather than at word boundaries.
        group: pieces cut from one block share a group; chunks split inside a group overlap.
        label: a definition name for code ("def load"), else "".
        split: cut from a block too big for one chunk.
    """

    start: int
    end: int
    tokens: int
    atomic: bool = False
    by_lines: bool = False
    group: int = 0
    label: str = ""
    split: bool = False


@dataclass
class _Span:
    start: int
    end: int
    labels: list[str] = field(default_factory=list)


def chunk_id(source: str, index: int, text: str) -> str:
    """A stable id for a chunk: a hash of where it comes from and what it says."""
    digest = hashlib.sha256(f"{source}\x00{index}\x00{text}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


class _LineIndex:
    """Maps text offsets to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [match.end() for match in re.finditer("\n", text)]

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset)


def chunk_document(
    document: LoadedDocument,
    *,
    source: str,
    file_hash: str,
    chunk_tokens: int = 500,
    overlap: int = 50,
    root: str = "",
) -> list[Chunk]:
    """Chunks for one loaded file.

    Args:
        document: what a loader produced.
        source: the absolute path stored with every chunk.
        file_hash: the file's content hash stored with every chunk.
        chunk_tokens: the most tokens a chunk may hold.
        overlap: about how many tokens consecutive chunks of one section share.
        root: the folder the ingest was given, stored with every chunk.

    Returns:
        The chunks in document order, indexed from 0.
    """
    if document.kind == "image":
        text = f"Image: {source.rsplit('/', 1)[-1]}"
        return [
            Chunk(
                id=chunk_id(source, 0, text + (document.image or "")[:64]),
                source=source,
                text=text,
                index=0,
                file_hash=file_hash,
                image=document.image,
                root=root,
            )
        ]
    texts = document.pages if document.kind == "pages" else (document.text,)
    anchor_offsets = [offset for offset, _ in document.anchors]
    chunks: list[Chunk] = []
    for page_number, text in enumerate(texts, start=1):
        page = page_number if document.kind == "pages" else None
        lines = _LineIndex(text) if document.has_lines else None
        spans: list[_Placed] = []
        for number, section in enumerate(
            segment(document.kind if page is None else "text", text, document.language)
        ):
            for span in _pack(text, section, chunk_tokens, min(overlap, chunk_tokens // 2)):
                if not text[span.start : span.end].strip():
                    continue
                heading = section.heading
                if section.code and span.labels:
                    shown = span.labels[:_MAX_LABELS]
                    heading = ", ".join(shown) + (", ..." if len(span.labels) > _MAX_LABELS else "")
                spans.append(_Placed(span.start, span.end, heading, number))
        # Code chunks start at definitions on purpose (a big one has chunks of its own).
        if document.kind != "code":
            spans = _merge_tiny(text, spans, chunk_tokens)
        for placed in spans:
            body = text[placed.start : placed.end]
            index = len(chunks)
            chunks.append(
                Chunk(
                    id=chunk_id(source, index, body),
                    source=source,
                    text=body,
                    # Stored and later shown as a citation: made safe once, here.
                    heading=clean_line(strip_anchor_marks(placed.heading)),
                    line_start=lines.line_of(placed.start) if lines else None,
                    line_end=lines.line_of(placed.end - 1) if lines else None,
                    page=page,
                    index=index,
                    file_hash=file_hash,
                    anchor=clean_line(_anchor_at(document, anchor_offsets, text, placed.start)),
                    root=root,
                    summary=document.summary,
                )
            )
    return chunks


@dataclass
class _Placed:
    """A packed chunk span with its heading and the section it came from."""

    start: int
    end: int
    heading: str
    section: int


def _merge_tiny(text: str, spans: list[_Placed], budget: int) -> list[_Placed]:
    """Spans under ``TINY_CHARS`` (a lone heading, "See also") merged into a neighbour.

    The following span of the same section is preferred, then the previous span (any
    section, so the heading stays the one the merged text mostly sits under), then the
    following span of another section; a merge never overflows ``budget`` and never
    crosses pages (spans are per page).
    """
    merged = list(spans)
    position = 0
    while position < len(merged) and len(merged) > 1:
        tiny = merged[position]
        if not is_tiny(text[tiny.start : tiny.end]):
            position += 1
            continue
        following = merged[position + 1] if position + 1 < len(merged) else None
        previous = merged[position - 1] if position > 0 else None
        forward = following is not None and _fits(text, tiny.start, following.end, budget)
        backward = previous is not None and _fits(text, previous.start, tiny.end, budget)
        if (
            forward
            and following is not None
            and (following.section == tiny.section or not backward)
        ):
            following.start = min(following.start, tiny.start)
            del merged[position]
        elif backward and previous is not None:
            previous.end = max(previous.end, tiny.end)
            del merged[position]
        else:
            position += 1  # no neighbour has room: the fragment stays
    return merged


def is_tiny(body: str) -> bool:
    """Whether a chunk's text is a fragment too small to stand alone."""
    stripped = body.strip()
    return len(stripped) < TINY_CHARS and count_cjk(stripped) < TINY_CJK


def _fits(text: str, start: int, end: int, budget: int) -> bool:
    return estimate_tokens(text[start:end]) <= budget


def _anchor_at(document: LoadedDocument, offsets: list[int], text: str, start: int) -> str:
    """The nearest anchor at or above the chunk's first line (HTML), or "".

    An anchor on the chunk's own first line (its heading) counts as above it.
    """
    if not offsets or document.kind == "pages":
        return ""
    line_end = text.find("\n", start)
    limit = len(text) if line_end < 0 else line_end
    found = bisect_right(offsets, limit) - 1
    return document.anchors[found][1] if found >= 0 else ""


# "¶" anywhere at a heading's end; "#" only as a word of its own ("C#" stays).
_ANCHOR_MARKS = re.compile(r"(?:[ \t]*[¶§🔗]|(?:^|[ \t]+)#+)[ \t]*(?= > |$)")


def strip_anchor_marks(heading: str) -> str:
    """A heading path without the permalink symbols HTML generators add (``¶``, ``#``)."""
    return _ANCHOR_MARKS.sub("", heading)


# ----------------------------------------------------------------------------- pieces


def _pieces(text: str, blocks: list[Block], budget: int) -> Iterator[Piece]:
    """Blocks as pieces no larger than ``budget``: small blocks whole, big ones cut finer."""
    for group, block in enumerate(blocks, start=1):
        tokens = estimate_tokens(text[block.start : block.end])
        by_lines = block.kind in ("fence", "code", "line")
        if tokens <= budget:
            atomic = block.kind in ("fence", "code")
            yield Piece(block.start, block.end, tokens, atomic, by_lines, group, block.label)
            continue
        if block.kind == "para":
            spans = _sentences(text, block.start, block.end)
        else:
            spans = _lines(text, block.start, block.end)
        for start, end in spans:
            size = estimate_tokens(text[start:end])
            if size <= budget:
                yield Piece(start, end, size, False, by_lines, group, block.label, True)
                continue
            for cut_start, cut_end in _hard_split(text, start, end, budget):
                size = estimate_tokens(text[cut_start:cut_end])
                yield Piece(cut_start, cut_end, size, False, by_lines, group, block.label, True)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans in ``text[start:end]`` (whitespace around them left out)."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        span = _trimmed(text, cursor, match.end())
        if span:
            spans.append(span)
        cursor = match.end()
    span = _trimmed(text, cursor, end)
    if span:
        spans.append(span)
    return spans


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Non-blank line spans in ``text[start:end]``; leading indentation is kept."""
    spans: list[tuple[int, int]] = []
    cursor = start
    while cursor < end:
        newline = text.find("\n", cursor, end)
        line_end = end if newline < 0 else newline
        stripped_end = line_end
        while stripped_end > cursor and text[stripped_end - 1].isspace():
            stripped_end -= 1
        if stripped_end > cursor:
            spans.append((cursor, stripped_end))
        cursor = line_end + 1
    return spans


def _hard_split(text: str, start: int, end: int, budget: int) -> list[tuple[int, int]]:
    """Cut a span with no natural break into spans of at most ``budget`` tokens."""
    spans: list[tuple[int, int]] = []
    position = start
    while position < end:
        low, high = position + 1, min(end, position + 4 * budget)
        while low < high:  # the largest cut that fits
            middle = (low + high + 1) // 2
            if estimate_tokens(text[position:middle]) <= budget:
                low = middle
            else:
                high = middle - 1
        cut = low
        if cut < end:  # prefer to cut after whitespace in the second half
            space = max(text.rfind(" ", position, cut), text.rfind("\n", position, cut))
            if space > position + (cut - position) // 2:
                cut = space + 1
        span = _trimmed(text, position, cut)
        if span:
            spans.append(span)
        position = cut
    return spans


# ----------------------------------------------------------------------------- packing


def _pack(text: str, section: Section, budget: int, overlap: int) -> list[_Span]:
    """Greedily fill chunks with a section's pieces, overlapping consecutive chunks."""
    pieces = list(_pieces(text, section.blocks, budget))
    spans: list[_Span] = []
    current: list[Piece] = []
    start = 0
    tokens = 0
    for piece in pieces:
        if current:
            gap = estimate_tokens(text[current[-1].end : piece.start])
            # In code, a definition too big for one chunk gets chunks of its own.
            alone = (
                section.code
                and piece.group != current[-1].group
                and (piece.split or current[-1].split)
            )
            if tokens + gap + piece.tokens <= budget and not alone:
                current.append(piece)
                tokens += gap + piece.tokens
                continue
            spans.append(_Span(start, current[-1].end, _labels(current)))
            start, tokens = piece.start, piece.tokens
            allowed = min(overlap, budget - piece.tokens - 1)
            if allowed > 0 and (section.overlap or current[-1].group == piece.group):
                tail = _overlap_start(text, current, allowed)
                if tail is not None:
                    start = tail
                    tokens = estimate_tokens(text[tail : piece.end])
                    if tokens > budget:  # an estimate that is not additive; play safe
                        start, tokens = piece.start, piece.tokens
            current = [piece]
        else:
            current = [piece]
            start, tokens = piece.start, piece.tokens
    if current:
        spans.append(_Span(start, current[-1].end, _labels(current)))
    return spans


def _labels(pieces: list[Piece]) -> list[str]:
    labels: list[str] = []
    for piece in pieces:
        if piece.label and piece.label not in labels:
            labels.append(piece.label)
    return labels


def _overlap_start(text: str, previous: list[Piece], allowed: int) -> int | None:
    """Where the next chunk should start so it repeats the end of the previous one."""
    end = previous[-1].end
    chosen: int | None = None
    for piece in reversed(previous):  # whole trailing pieces first (sentences, lines)
        if estimate_tokens(text[piece.start : end]) > allowed:
            break
        chosen = piece.start
    if chosen is not None:
        return chosen
    last = previous[-1]
    if last.atomic:
        return None
    # Otherwise the tail of the last piece, cut at a word (or line) start.
    position = last.end
    budget = (allowed - 1) * 4  # in quarters of a token
    while position > last.start and budget > 0:
        position -= 1
        budget -= char_quarters(text[position])
    if last.by_lines:
        newline = text.find("\n", position, last.end)
        if newline < 0:
            return None
        position = newline + 1
    elif position > last.start and not is_cjk(text[position]):
        while position < last.end and not text[position].isspace():
            position += 1
    while position < last.end and text[position].isspace():
        position += 1
    if position >= last.end or estimate_tokens(text[position:end]) > allowed:
        return None
    return position
