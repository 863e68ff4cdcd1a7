r"""How text is folded and cut into search terms, for the history search.

One rule set, used on both sides: the index (:mod:`chat_tui.storage.history_search`)
stores the terms of every message, and a query is cut into terms the same way, so
what is typed finds what was written whatever its case or accents ("Cafe" finds
"café", "STRASSE" finds "Straße"). The same rules also find the matched words in a
message again, with their places in the original text, for the highlighted snippet.

* Folding, one character at a time: NFKD (compatibility forms: full-width letters,
  ligatures), combining marks dropped (accents), casefold, NFC again (so Hangul
  syllables come back whole). A dropped mark belongs to the letter before it.
* Terms: runs of letters and digits are words. Chinese, Japanese and Korean are
  written without spaces, so a run of those characters is cut into overlapping
  character pairs (bigrams): "中文分词" -> 中文 文分 分词, and a query of two or more
  characters is the phrase of its pairs, found wherever that text occurs. Single
  characters are kept apart (the "chars" terms), for one-character queries. jieba (a
  dependency, for the knowledge base) was not used here: its dictionary costs ~1 s to
  load in every ``chat-tui search``, and a word cut differently in a query and in a
  message would miss, which bigrams never do.

Pure Python, no I/O: the storage and the services both use it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

#: Scripts written without spaces between words: CJK radicals and symbols' letters,
#: kana, bopomofo, CJK ideographs (with extensions and compatibility forms), Hangul.
CJK_CLASS = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3038-\u303c"
    "\u3040-\u30ff\u3100-\u312f\u3131-\u318f\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
_CJK = f"[{CJK_CLASS}]"
_CJK_RUN = re.compile(f"{_CJK}+")
#: A word character that is not CJK (letters, digits; not the underscore).
_WORD_CHAR = f"(?:(?!{_CJK})[^\\W_])"
_TERM = re.compile(f"(?P<cjk>{_CJK}+)|(?P<word>{_WORD_CHAR}+)")


@lru_cache(maxsize=65_536)
def _fold_char(character: str) -> str:
    decomposed = unicodedata.normalize("NFKD", character)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare.casefold())


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def fold(text: str) -> str:
    """``text`` case- and accent-folded (see the module docstring).

    The same as folding each character (``fold_with_offsets``), done in C: only
    NFC could join two characters here that it would not join one by one (Hangul
    jamo typed apart), which at worst leaves one highlight out.
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    if not decomposed.isascii():
        decomposed = _combining_marks().sub("", decomposed)
    return unicodedata.normalize("NFC", decomposed.casefold())


@lru_cache(maxsize=1)
def _combining_marks() -> re.Pattern[str]:
    """Every combining character, as one character class (built once: ~0.2 s)."""
    ranges: list[str] = []
    start = -1
    for code in range(0x110001):
        mark = code < 0x110000 and unicodedata.combining(chr(code)) != 0
        if mark and start < 0:
            start = code
        elif not mark and start >= 0:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(code - 1))}")
            start = -1
    return re.compile("[" + "".join(ranges) + "]")


def fold_with_offsets(text: str) -> tuple[str, Sequence[int], Sequence[int]]:
    """``fold(text)`` with, for each folded character, where it came from in ``text``.

    Returns:
        ``(folded, starts, ends)``: folded character ``i`` came from
        ``text[starts[i]:ends[i]]`` (a dropped accent extends the letter before it).
    """
    if text.isascii():
        return text.lower(), range(len(text)), range(1, len(text) + 1)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for run in _NON_ASCII.finditer(text):
        if run.start() > position:  # ASCII in bulk: one character each, in place
            pieces.append(text[position : run.start()].lower())
            starts.extend(range(position, run.start()))
            ends.extend(range(position + 1, run.start() + 1))
        for index in range(run.start(), run.end()):
            piece = _fold_char(text[index])
            if not piece:
                if ends:
                    ends[-1] = index + 1
                continue
            pieces.append(piece)
            starts.extend([index] * len(piece))
            ends.extend([index + 1] * len(piece))
        position = run.end()
    if position < len(text):
        pieces.append(text[position:].lower())
        starts.extend(range(position, len(text)))
        ends.extend(range(position + 1, len(text) + 1))
    return "".join(pieces), starts, ends


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


@dataclass(frozen=True)
class IndexTerms:
    """What the index stores for one text: its word terms and its single CJK characters.

    Both are space-separated, ready for an FTS5 column with the ``ascii`` tokenizer
    (which keeps every non-ASCII character inside a term and splits only on ASCII
    punctuation and spaces, which no term holds).
    """

    words: str
    chars: str


_ASCII_WORD = re.compile(r"[a-z0-9]+")
_WORD_RUN = re.compile(r"[^\W_]+")


def index_terms(text: str) -> IndexTerms:
    """The terms of ``text`` (already folded or not: folding is idempotent).

    The same terms as ``_TERM`` cuts a query into, found faster: a cold index build
    spends most of its time here (50,000 messages).
    """
    folded = fold(text)
    if folded.isascii():
        return IndexTerms(" ".join(_ASCII_WORD.findall(folded)), "")
    words: list[str] = []
    chars: list[str] = []
    for run in _WORD_RUN.findall(_CJK_RUN.sub(r" \g<0> ", folded)):
        if run.isascii() or not _CJK_RUN.match(run):
            words.append(run)
        else:
            words.extend(_bigrams(run))
            chars.extend(run)
    return IndexTerms(" ".join(words), " ".join(chars))


@dataclass(frozen=True)
class Segment:
    """One run of a query term: a word, or a run of CJK characters."""

    text: str
    cjk: bool


@dataclass(frozen=True)
class QueryTerm:
    """A bare word or a quoted phrase of a query, folded and cut into segments.

    Every term must occur in a message for it to match. A bare word matches as a
    prefix (so results come while a word is still being typed); a quoted phrase
    matches its words exactly, in order.
    """

    segments: tuple[Segment, ...]
    prefix: bool


_QUOTED = re.compile(r'"([^"]*)"?')


def parse_query(query: str) -> list[QueryTerm]:
    """The terms of a query: ``"quoted phrases"`` and bare words (empty: no terms)."""
    terms: list[QueryTerm] = []
    position = 0
    for match in _QUOTED.finditer(query):
        terms.extend(_bare_terms(query[position : match.start()]))
        segments = _segments(match.group(1))
        if segments:
            terms.append(QueryTerm(segments, prefix=False))
        position = match.end()
    terms.extend(_bare_terms(query[position:]))
    return terms


def _bare_terms(text: str) -> Iterator[QueryTerm]:
    for word in text.split():
        segments = _segments(word)
        if segments:
            yield QueryTerm(segments, prefix=True)


def _segments(text: str) -> tuple[Segment, ...]:
    return tuple(
        Segment(match.group(), cjk=bool(match.group("cjk"))) for match in _TERM.finditer(fold(text))
    )


def _fts_string(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def fts_query(terms: list[QueryTerm]) -> str:
    """An FTS5 MATCH expression for the terms, on the index's ``words``/``chars`` columns.

    A lone CJK character searches the ``chars`` column; otherwise a term is one FTS5
    phrase of its words and CJK bigrams (``+`` joins tokens of one phrase).
    """
    parts: list[str] = []
    for term in terms:
        if len(term.segments) == 1 and term.segments[0].cjk and len(term.segments[0].text) == 1:
            parts.append("chars : " + _fts_string(term.segments[0].text))
            continue
        tokens: list[str] = []
        last = len(term.segments) - 1
        for number, segment in enumerate(term.segments):
            if segment.cjk and len(segment.text) == 1:
                # One character inside a phrase begins a pair in the message: a prefix.
                tokens.append(_fts_string(segment.text) + " *")
            elif segment.cjk:
                tokens.extend(_fts_string(pair) for pair in _bigrams(segment.text))
            elif term.prefix and number == last:
                tokens.append(_fts_string(segment.text) + " *")
            else:
                tokens.append(_fts_string(segment.text))
        parts.append("words : (" + " + ".join(tokens) + ")")
    return " AND ".join(parts)


def _term_pattern(term: QueryTerm) -> str:
    pieces: list[str] = []
    for segment in term.segments:
        pieces.append(re.escape(segment.text))
    pattern = r"[\W_]*".join(pieces)
    if not term.segments[0].cjk:
        pattern = f"(?<!{_WORD_CHAR})" + pattern
    last = term.segments[-1]
    if not last.cjk and not term.prefix:
        pattern += f"(?!{_WORD_CHAR})"
    return pattern


def match_spans(text: str, terms: list[QueryTerm]) -> list[tuple[int, int]]:
    """Where the terms occur in ``text`` (original offsets), sorted, not overlapping."""
    if not terms:
        return []
    folded, starts, ends = fold_with_offsets(text)
    pattern = re.compile("|".join(f"(?:{_term_pattern(t)})" for t in terms))
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(folded):
        if match.end() > match.start():
            spans.append((starts[match.start()], ends[match.end() - 1]))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


__all__ = [
    "IndexTerms",
    "QueryTerm",
    "Segment",
    "fold",
    "fold_with_offsets",
    "fts_query",
    "index_terms",
    "match_spans",
    "parse_query",
]
