"""Garbage-collector settings for the running app.

Textual allocates heavily while an answer renders, and CPython's default collector
settings paused streaming for 60-160 ms at a time (measured with
bench/bench_streaming.py and gc callbacks). Only the process that runs the app
applies them (see ``chat_tui.launch``); tests that build many apps do not freeze.
"""

from __future__ import annotations

import gc

#: Allocations between young-generation collections, young collections between middle
#: ones, middle between full ones. Textual allocates heavily while an answer renders.
#: Measured with bench/bench_streaming.py and gc callbacks: CPython's (700, 10, 10) ran
#: full collections of the growing widget tree every few seconds of streaming, each a
#: 60-130 ms pause; (10_000, 50, 100) traded them for 140-160 ms middle collections.
#: With these, middle collections stay under ~10 ms and full ones are rare (and scan
#: only what was made after start-up, see ``tune_gc``): worst stall at 200 tokens/s
#: ~50 ms instead of 150-220 ms.
GC_THRESHOLDS = (2_000, 10, 1_000)


def pause_gc_for_start_up() -> None:
    """Turn the collector off until ``tune_gc`` (the start of ``chat-tui``, see ``launch``).

    Importing Textual and chat-tui, reading the settings and the history index makes
    ~40,000 objects that live as long as the process, and frees fewer than 1,000 in
    cycles: with CPython's thresholds that ran ~100 collections (~15% of the imports'
    time, measured with gc callbacks) to find almost nothing.
    """
    gc.disable()


def tune_gc(*, freeze: bool = False) -> None:
    """Fewer, shorter garbage-collection pauses while answers stream.

    ``freeze`` also moves every object alive now (imported modules, the stylesheet) out of
    the collector's sight for good, so no collection scans them again: only for the
    process that runs the app, not for a test run that builds many apps. The collector
    is on afterwards, also when ``pause_gc_for_start_up`` had turned it off.
    """
    gc.set_threshold(*GC_THRESHOLDS)
    if freeze:
        gc.freeze()
    gc.enable()


__all__ = ["GC_THRESHOLDS", "pause_gc_for_start_up", "tune_gc"]
