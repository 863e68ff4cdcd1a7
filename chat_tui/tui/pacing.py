"""The turn gives the event loop its turns while a fast stream is consumed.

Deltas the HTTP client has already buffered come out of the stream without a
suspension, so a server that sent thousands at once held the loop until the last one
was handled (no frame, no key read). ``LoopYielder`` suspends the turn every
``YIELD_EVERY_SECONDS`` or ``YIELD_EVERY_DELTAS``, whichever comes first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

#: A streaming turn lets the loop run at least this often.
YIELD_EVERY_SECONDS = 0.010
YIELD_EVERY_DELTAS = 64


class LoopYielder:
    """``await yielder.tick()`` once per delta: suspends every so many deltas or ms.

    Args:
        seconds: the longest run between two suspensions.
        deltas: the most deltas between two suspensions.
        clock: a monotonic clock.
    """

    def __init__(
        self,
        seconds: float = YIELD_EVERY_SECONDS,
        deltas: int = YIELD_EVERY_DELTAS,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._seconds = seconds
        self._deltas = deltas
        self._clock = clock
        self._count = 0
        self._since = clock()

    async def tick(self) -> None:
        self._count += 1
        if self._count >= self._deltas or self._clock() - self._since >= self._seconds:
            await asyncio.sleep(0)
            self._count = 0
            self._since = self._clock()


__all__ = ["YIELD_EVERY_DELTAS", "YIELD_EVERY_SECONDS", "LoopYielder"]
