"""Reading a server's ``Retry-After`` header: the one parser the chat and embedding clients share.

Why here: both HTTP clients (the chat provider in ``llm`` and the embedders in
``retrieval``) honour a 429/503's requested wait, and RFC 9110 allows two forms, a number
of seconds or an HTTP date. Parsing is pure (the clock is an argument), so it lives in the
lowest layer and is tested without a server; each caller caps the wait its own way.
"""

from __future__ import annotations

import email.utils
import math
import time
from datetime import UTC


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """The wait a ``Retry-After`` value asks for, in seconds (never negative).

    Args:
        value: the header's value: seconds (``"120"``, ``"0.5"``) or an HTTP date
            (``"Wed, 21 Oct 2015 07:28:00 GMT"``); None or "" when absent.
        now: the current time (``time.time()`` by default), for the date form.

    Returns:
        Seconds to wait (a date in the past gives 0), or None when the value is
        absent or not a number nor a date.
    """
    if not value or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": the RFC's "no zone information", taken as UTC
        when = when.replace(tzinfo=UTC)
    try:
        stamp = when.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
    return max(0.0, stamp - (time.time() if now is None else now))
