"""Measures event-loop stalls: how late a 5 ms ticker wakes up while work runs beside it.

Used by the benchmarks that check "no stall over 50 ms" (streaming, retrieval).
"""

from __future__ import annotations

import asyncio
import time

TICK = 0.005


class StallMeter:
    """``async with StallMeter() as meter:`` runs the ticker for the duration of the block.

    Attributes:
        stalls: seconds each tick came late, in order.
        big: ``(seconds since start, ms)`` of every gap over 50 ms.
    """

    def __init__(self) -> None:
        self.stalls: list[float] = []
        self.big: list[tuple[float, float]] = []
        self.started = 0.0
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while not self._done.is_set():
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            self.stalls.append(now - last - TICK)
            if now - last > 0.05:
                self.big.append((round(now - self.started, 3), round((now - last) * 1000, 1)))
            last = now

    async def __aenter__(self) -> StallMeter:
        self.started = time.perf_counter()
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._done.set()
        if self._task is not None:
            await self._task

    @property
    def longest_ms(self) -> float:
        return max(self.stalls, default=0.0) * 1000
