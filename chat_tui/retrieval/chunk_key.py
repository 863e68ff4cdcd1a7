"""The key of a passage: equal for copies of one text, so a knowledge base stores it once.

Why it lives in retrieval: the store decides, under its write lock, which chunk of a
passage is stored and which ones are recorded as copies (``milvus_copies``), and
ingest's bookkeeping (``chat_tui.ingest.dedup``) uses the same key; retrieval must
not import ingest. The key is a hash of the text normalised so that copies differing
only in case, punctuation, full-width forms (NFKC) or whitespace collapse, while
different words never do. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import unicodedata

#: Unicode categories dropped by the key: punctuation (P*) and symbols (S*), so
#: "Report a Bug ¶" and "report a bug" are one passage.
_DROPPED_CATEGORIES = ("P", "S")


class _Blanking(dict[int, int]):
    """``str.translate`` table mapping punctuation and symbols to a space, filled on demand.

    Each distinct character is classified once per process; later lookups are dict hits
    in C, which makes keying ~10x faster than classifying every character.
    """

    def __missing__(self, code: int) -> int:
        value = 32 if unicodedata.category(chr(code))[0] in _DROPPED_CATEGORIES else code
        self[code] = value
        return value


_BLANKING = _Blanking()


def normalise(text: str) -> str:
    """``text`` as the key sees it: NFKC, casefolded, punctuation/symbols gone, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.translate(_BLANKING).split())


def dedup_key(text: str) -> str:
    """The key of a passage: equal for copies (see :func:`normalise`), 32 hex digits.

    A text with nothing left after normalising (only punctuation) keys on its raw
    text, so unrelated punctuation-only fragments never merge.
    """
    normal = normalise(text)
    basis = ("n:" + normal) if normal else ("r:" + text)
    digest = hashlib.blake2b(basis.encode("utf-8", "surrogateescape"), digest_size=16)
    return digest.hexdigest()
