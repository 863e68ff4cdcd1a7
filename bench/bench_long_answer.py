"""How long a very long answer takes to reach the screen, and how the app copes meanwhile.

Issue 7.5: one 1 MB paragraph from the model kept the TUI rendering for 18 minutes,
key echo up to 5.2 s, Esc could not stop it. This feeds such an answer into the
real AnswerView of the real App (headless) as fast as the loop allows, in pieces
the size of network deltas, then stores it complete, and prints:

- time until all of it is on screen (the target: under 10 s for 1 MB),
- the longest event-loop stall while it renders (a key typed then waits that long;
  the target for key echo is under 100 ms),
- with ``--stop-after S``: how long after Esc (S seconds in) the drawing stops,
- with ``--quit-after S``: how long after ctrl+q (S seconds in) the app has exited.

    python bench/bench_long_answer.py [--chars 1000000] [--piece 64] [--markdown]
                                      [--stop-after SECONDS] [--quit-after SECONDS]

``--markdown`` feeds sections with headings, lists and code instead of one paragraph.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stall_meter import StallMeter  # noqa: E402

SECTION = """## Part {n}

Some prose about part {n}, with **bold** words and a `code span`.

```python
def part_{n}(x: int) -> int:
    return x * {n}
```

- first point of part {n}
- second point

"""


def make_answer(chars: int, markdown: bool) -> str:
    if markdown:
        text, n = "", 1
        while len(text) < chars:
            text += SECTION.format(n=n)
            n += 1
        return text[:chars]
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod ".split()
    out: list[str] = []
    size = 0
    i = 0
    while size < chars:
        word = words[i % len(words)] + " "
        out.append(word)
        size += len(word)
        i += 1
    return "".join(out)[:chars]  # one paragraph: no newline at all


async def run(
    chars: int, piece: int, markdown: bool, stop_after: float | None, quit_after: float | None
) -> None:
    from chat_tui.config import load_settings
    from chat_tui.domain.models import Message
    from chat_tui.services.bootstrap import open_services
    from chat_tui.tui.app import make_app
    from chat_tui.tui.gc_tuning import tune_gc

    answer = make_answer(chars, markdown)
    pieces = [answer[i : i + piece] for i in range(0, len(answer), piece)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            config_file=Path(tmp) / "none.toml",
            env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
            data_dir=Path(tmp),
        )
        services = open_services(settings, context=None)
        app = make_app(services, check_setup=False)
        tune_gc(freeze=True)
        stopped_in: float | None = None
        quit_at: float | None = None
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.chat_screen.session is not None
            view = await app.chat_screen.chat_view.start_answer()
            async with StallMeter() as meter:
                start = time.perf_counter()
                for text in pieces:
                    view.add_content(text)
                    await asyncio.sleep(0)
                fed = time.perf_counter()
                message = Message(
                    session_id=app.chat_screen.session.id, role="assistant", content=answer
                )
                finishing = asyncio.ensure_future(view.finish(message))
                if stop_after is not None:
                    done, _ = await asyncio.wait([finishing], timeout=stop_after)
                    if not done:
                        stop = time.perf_counter()
                        stop_rendering = getattr(view, "stop_rendering", None)
                        if stop_rendering is None:
                            print("this version has no way to stop the drawing")
                        else:
                            stop_rendering()
                        await finishing
                        stopped_in = time.perf_counter() - stop
                if quit_after is not None:
                    await asyncio.wait([finishing], timeout=quit_after)
                    quit_at = time.perf_counter()
                    await app.action_quit()
                else:
                    await finishing
                end = time.perf_counter()
                if quit_after is None:
                    await pilot.pause()
            segments = len(getattr(view, "segments", [None]))
            drawn = len(view.streamed_text)
        quit_in = time.perf_counter() - quit_at if quit_at is not None else None
        services.close()
    stalls = meter.stalls
    print(
        f"answer: {len(answer):,} characters in {len(pieces):,} pieces of {piece} "
        f"({'markdown sections' if markdown else 'one paragraph'})"
    )
    if quit_in is not None:
        print(f"ctrl+q after {quit_after:g} s: exited {quit_in * 1000:.0f} ms later (target < 2 s)")
    else:
        print(f"fed in {fed - start:.2f} s; on screen after {end - start:.2f} s (target < 10 s)")
    print(f"drawn: {drawn:,} characters in {segments} Markdown segment(s)")
    if stopped_in is not None:
        print(f"Esc after {stop_after:g} s: drawing stopped {stopped_in * 1000:.0f} ms later")
    print(
        f"event-loop stall: max {max(stalls) * 1000:.1f} ms, p95 "
        f"{statistics.quantiles(stalls, n=20)[-1] * 1000:.1f} ms "
        f"(key echo waits this long; target < 100 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--piece", type=int, default=64, help="characters per delta")
    parser.add_argument("--markdown", action="store_true", help="sections, not one paragraph")
    parser.add_argument("--stop-after", type=float, default=None, help="press Esc after S s")
    parser.add_argument("--quit-after", type=float, default=None, help="press ctrl+q after S s")
    args = parser.parse_args()
    asyncio.run(run(args.chars, args.piece, args.markdown, args.stop_after, args.quit_after))


if __name__ == "__main__":
    main()
