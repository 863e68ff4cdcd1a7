"""Measures event-loop stalls: how late a 5 ms ticker wakes up while work runs beside it.

Used by the benchmarks that check "no stall over 50 ms" (streaming, retrieval).

Each gap over 50 ms also records the CPU time the loop's thread used during it
(``time.thread_time``): close to the gap, the loop itself was busy (our code to fix);
far below it, the thread was waiting for a CPU (another job on a shared machine).
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
        big_cpu: the loop thread's CPU ms during each of those gaps, in order.
        longest_cpu_ms: the loop thread's CPU ms during the longest gap.
    """

    def __init__(self) -> None:
        self.stalls: list[float] = []
        self.big: list[tuple[float, float]] = []
        self.big_cpu: list[float] = []
        self.longest_cpu_ms = 0.0
        self.started = 0.0
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        last_cpu = time.thread_time()
        longest = float("-inf")
        while not self._done.is_set():
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            cpu = time.thread_time()
            late = now - last - TICK
            if late > longest:
                longest, self.longest_cpu_ms = late, (cpu - last_cpu) * 1000
            self.stalls.append(late)
            if now - last > 0.05:
                self.big.append((round(now - self.started, 3), round((now - last) * 1000, 1)))
                self.big_cpu.append(round((cpu - last_cpu) * 1000, 1))
            last, last_cpu = now, cpu

    async def __aenter__(self) -> StallMeter:
        self.started = time.perf_counter()
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._done.set()
        if self._task is not None:
            await self._task

    def report_big(self) -> str:
        """Every gap over 50 ms as ``at s: gap ms (loop CPU ms)``."""
        return ", ".join(
            f"{at:.3f}: {gap:.1f} ({cpu:.1f} CPU)"
            for (at, gap), cpu in zip(self.big, self.big_cpu, strict=True)
        )

    @property
    def longest_ms(self) -> float:
        return max(self.stalls, default=0.0) * 1000
