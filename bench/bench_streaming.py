"""How fast the chat pane renders a streamed answer, and the longest event-loop stall.

Feeds a ~4,000-token Markdown answer with code blocks into the real AnswerView of
the real App (headless), token by token, as fast as the loop allows, the way the
service's events arrive from the network. Prints tokens/s and the worst stall
seen by a 5 ms ticker running beside it.

    python bench/bench_streaming.py [--tokens 4000] [--rate TOKENS_PER_S]

``--rate`` paces the tokens like a model streaming at that speed (default: as fast
as the loop allows, the stress case the target is set for).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stall_meter import StallMeter  # noqa: E402

SECTION = """## Step {n}: parsing the input

The parser reads the **configuration** line by line, keeps a `dict` of values and
reports errors with the line number. Here is the loop:

```python
def parse(lines: list[str]) -> dict[str, str]:
    values: dict[str, str] = {{}}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values
```

- It skips blank lines and comments.
- It never raises on a missing `=`; the value is empty.

"""


def make_answer(tokens: int) -> list[str]:
    text = ""
    n = 1
    while len(re.findall(r"\S+|\s+", text)) < tokens:
        text += SECTION.format(n=n)
        n += 1
    pieces = re.findall(r"\S+|\s+", text)[:tokens]
    return pieces


async def run(tokens: int, verbose: bool = False, rate: float = 0.0) -> None:
    from chat_tui.config import load_settings
    from chat_tui.domain.models import Message
    from chat_tui.services.bootstrap import open_services
    from chat_tui.tui.app import make_app
    from chat_tui.tui.gc_tuning import tune_gc

    pieces = make_answer(tokens)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            config_file=Path(tmp) / "none.toml",
            env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
            data_dir=Path(tmp),
        )
        services = open_services(settings, context=None)
        app = make_app(services, check_setup=False)
        tune_gc(freeze=True)  # as `chat-tui` does before it runs the app
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            view = await app.chat_screen.chat_view.start_answer()
            async with StallMeter() as meter:
                start = time.perf_counter()
                # CPU time at each quarter of the feed: unlike the stalls, it hardly
                # depends on what else the machine runs.
                cpu = [time.process_time()]
                quarter = max(1, len(pieces) // 4)
                for number, piece in enumerate(pieces):
                    if number and number % quarter == 0 and len(cpu) < 4:
                        cpu.append(time.process_time())
                    view.add_content(piece)
                    if rate:  # the network's pace: wait until this token is due
                        due = start + number / rate
                        await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    else:
                        await asyncio.sleep(0)
                fed = time.perf_counter()
                cpu.append(time.process_time())
                feed_stalls = len(meter.stalls)
                await view.finish(
                    Message(
                        session_id=app.chat_screen.session.id,
                        role="assistant",
                        content="".join(pieces),
                    )
                )
                end = time.perf_counter()
                await pilot.pause()
        services.close()
    total = end - start
    stalls = meter.stalls
    if verbose:
        print("stalls over 50 ms (at s: ms (loop thread CPU ms)):", meter.report_big())
    print(f"tokens: {len(pieces)}  characters: {sum(map(len, pieces))}")
    print(f"fed in {fed - start:.3f} s, final render {end - fed:.3f} s")
    print(f"throughput: {len(pieces) / total:,.0f} tokens/s (target >= 2,000)")
    print(
        f"stall while streaming: max {max(stalls[:feed_stalls]) * 1000:.1f} ms; "
        f"while finishing: max {max(stalls[feed_stalls:] or [0]) * 1000:.1f} ms"
    )
    print(
        f"event-loop stall: max {max(stalls) * 1000:.1f} ms, p95 "
        f"{statistics.quantiles(stalls, n=20)[-1] * 1000:.1f} ms (target: none over 50 ms)"
    )
    print(f"loop thread CPU during the longest stall: {meter.longest_cpu_ms:.1f} ms")
    # Does a frame cost more the longer the answer is? The stalls of each quarter of
    # the feed, side by side (they should not grow).
    feed = stalls[:feed_stalls]
    if len(feed) >= 8:
        size = len(feed) // 4
        parts = [sorted(feed[i * size : (i + 1) * size]) for i in range(4)]
        p95s = [part[int(len(part) * 0.95)] * 1000 for part in parts]
        print("stall p95 by quarter of the answer: " + ", ".join(f"{v:.1f}" for v in p95s) + " ms")
    if len(cpu) == 5:
        per_token = [(b - a) * 1000 / quarter for a, b in zip(cpu, cpu[1:], strict=False)]
        print(
            "CPU per token by quarter of the answer: "
            + ", ".join(f"{v:.2f}" for v in per_token)
            + " ms (should not grow)"
        )
    one, five, _ = os.getloadavg()
    print(f"load average: {one:.2f} (1 min), {five:.2f} (5 min)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=4000)
    parser.add_argument("--verbose", action="store_true", help="list every stall over 50 ms")
    parser.add_argument("--rate", type=float, default=0.0, help="tokens/s (default: unpaced)")
    args = parser.parse_args()
    asyncio.run(run(args.tokens, args.verbose, args.rate))


if __name__ == "__main__":
    main()
