"""The key of a passage: equal for copies of one text, so a knowledge base stores it once.

Why it lives in retrieval: the store decides, under its write lock, which chunk of a
passage is stored and which ones are recorded as copies (``milvus_copies``), and
ingest's bookkeeping (``chat_tui.ingest.dedup``) uses the same key; retrieval must
not import ingest. The key is a hash of the text normalised so that copies differing
only in case, punctuation, full-width forms (NFKC) or whitespace collapse, while
different words never do. Pure: no I/O.
"""

from __future__ import annotations

import functools
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


#: Keys remembered: an ingest keys each chunk up to four times (the pipeline, then the
#: store's copies check, its ``stored_keys`` and the row), ~38 us each on the Python
#: docs' chunks (1.4k characters); remembered, 3,356 chunks keyed 4 times take 0.14 s
#: of CPU instead of 0.51 s. The cache holds the last texts keyed (the chunks of the
#: batches in flight) and 32-digit keys; caching ``normalise`` instead was as fast and
#: held 9x the memory (4.4 vs 0.5 MB for those chunks, by tracemalloc), its results
#: being whole texts.
KEYS_CACHED = 8192


@functools.lru_cache(maxsize=KEYS_CACHED)
def dedup_key(text: str) -> str:
    """The key of a passage: equal for copies (see :func:`normalise`), 32 hex digits.

    A text with nothing left after normalising (only punctuation) keys on its raw
    text, so unrelated punctuation-only fragments never merge. Pure (same text, same
    key), so it is cached.
    """
    normal = normalise(text)
    basis = ("n:" + normal) if normal else ("r:" + text)
    digest = hashlib.blake2b(basis.encode("utf-8", "surrogateescape"), digest_size=16)
    return digest.hexdigest()
