"""Where the time of a first answer goes, in the real program in a real terminal.

``bench_tmux.py`` says how long the first answer takes to show; this says what the
program was doing meanwhile. It runs chat-tui (``chat_tui.launch.main``, what the
installed binary runs) in tmux like ``bench_tmux.py`` does, with a sampler thread
that records every thread's Python stack every few ms (``sys._current_frames``, the
stdlib's documented hook for this), asks one question as soon as the prompt shows,
quits, and prints, for the window from launch until the prompt shows and for the one
from Enter until the answer's first word is on screen, the functions the main thread
(the event loop) spent that time in, and what the other threads were busy with (a
thread holding the GIL stalls the loop too). Sampling itself slows the program a
little, and a thread deep in C code is seen late, so read the ms as shares.

    python bench/tmux_profile.py --answer code     # an answer opening with a code block
    python bench/tmux_profile.py --answer plain --history --open-big   # big history
    python bench/tmux_profile.py --answer long     # 4,000 deltas at once: the first words
    python bench/tmux_profile.py --history --open-big --frames   # the open, write by write

CLOCK_MONOTONIC is one clock for all processes on Linux, so the child's samples and
the bench's Enter/shown moments line up.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_tmux import BIG_END, TimedPane, build_history, long_answer  # noqa: E402

from tests.e2e.conftest import app_env  # noqa: E402
from tests.support.fake_openai import FakeOpenAI, Reply  # noqa: E402

CHILD = r"""
import atexit, json, sys, threading, time
out_path, interval = sys.argv[1], float(sys.argv[2])
samples = []
stop = threading.Event()

def sample():
    me = threading.get_ident()
    names = {}
    while not stop.wait(interval):
        now = time.monotonic()
        for thread in threading.enumerate():
            names[thread.ident] = thread.name
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            stack = []
            while frame is not None and len(stack) < 60:
                code = frame.f_code
                stack.append(f"{code.co_filename}:{code.co_firstlineno}:{code.co_name}")
                frame = frame.f_back
            samples.append((now, names.get(ident, str(ident)), stack))

def dump():
    stop.set()
    with open(out_path, "w") as out:
        json.dump(samples, out)

threading.Thread(target=sample, name="sampler", daemon=True).start()
atexit.register(dump)
sys.argv = ["chat-tui"]
from chat_tui.launch import main
main()
"""

#: Leaf functions of a thread that is waiting, not working.
IDLE = ("wait", "select", "poll", "_worker", "get", "recv", "recv_into", "read", "accept")


def short(frame: str) -> str:
    path, line, name = frame.rsplit(":", 2)
    for marker in ("site-packages/", "lib/python3.11/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line} {name}"


def report(
    samples: list[tuple[float, str, list[str]]], start: float, end: float, top: int = 40
) -> None:
    window = [s for s in samples if start <= s[0] <= end]
    ticks = sorted({s[0] for s in window})
    if len(ticks) < 2:
        print("too few samples in the window")
        return
    step = (ticks[-1] - ticks[0]) / (len(ticks) - 1)
    print(
        f"window {1000 * (end - start):.0f} ms, {len(ticks)} samples, one per {1000 * step:.1f} ms"
    )
    by_thread: dict[str, list[list[str]]] = {}
    for _, name, stack in window:
        by_thread.setdefault(name, []).append(stack)
    for name, stacks in sorted(by_thread.items(), key=lambda kv: kv[0] != "MainThread"):
        busy = [s for s in stacks if s and s[0].rsplit(":", 1)[1] not in IDLE]
        if name != "MainThread" and len(busy) < 3:
            continue
        print(
            f"\n{name}: {len(busy)}/{len(stacks)} samples busy (~{len(busy) * step * 1000:.0f} ms)"
        )
        inclusive: Counter[str] = Counter()
        for stack in busy:
            for frame in set(stack):
                inclusive[frame] += 1
        for frame, count in inclusive.most_common(top):
            if "asyncio/" in frame or "threading.py" in frame or "_callback.py" in frame:
                continue
            print(f"  {count * step * 1000:7.0f} ms  {short(frame)}")


def changed_cells(before: str, after: str) -> int:
    """Cells whose character differs between two ``capture-pane`` screens."""
    old, new = before.splitlines(), after.splitlines()
    count = 0
    for row in range(max(len(old), len(new))):
        a = old[row] if row < len(old) else ""
        b = new[row] if row < len(new) else ""
        width = max(len(a), len(b))
        count += sum(x != y for x, y in zip(a.ljust(width), b.ljust(width), strict=True))
    return count


def watch_frames(
    pane: TimedPane, before: str, quiet: float = 0.5
) -> list[tuple[float, int, bool]]:
    """(time, cells changed, the big session's end shown) of the screen after each write,
    until the program has written
    nothing for ``quiet`` s. Writes that arrive together are read as one, and the screen
    is read a little after its write, so a row is at most one frame."""
    frames: list[tuple[float, int, bool]] = []
    screen = before
    while (stamp := pane.pump(quiet)) is not None:
        now = pane.screen()
        frames.append((stamp, changed_cells(screen, now), BIG_END in now))
        screen = now
    return frames


def print_frames(frames: list[tuple[float, int, bool]], pane: TimedPane, since: float) -> None:
    sizes = dict(zip(pane.writes, pane.write_bytes, strict=True))
    print(f"\n== the open, write by write ({len(frames)} writes)")
    print(f"{'at ms':>8} {'gap ms':>7} {'bytes':>7} {'cells':>6}")
    previous = since
    for stamp, cells, _ in frames:
        print(
            f"{(stamp - since) * 1000:8.0f} {(stamp - previous) * 1000:7.0f} "
            f"{sizes.get(stamp, 0):7d} {cells:6d}"
        )
        previous = stamp
    unchanged = sum(cells == 0 for _, cells, _ in frames)
    print(f"{unchanged} of {len(frames)} writes changed no cell's character")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answer", choices=("code", "plain", "long"), default="code")
    parser.add_argument("--interval", type=float, default=0.004, help="seconds between samples")
    parser.add_argument("--size", default="160x45")
    parser.add_argument(
        "--history", action="store_true", help="start on 1,000 sessions x 50 messages"
    )
    parser.add_argument(
        "--open-big",
        action="store_true",
        help="with --history: also profile ctrl+down to the 2,000-message session",
    )
    parser.add_argument(
        "--frames",
        action="store_true",
        help="with --open-big: each write of the open (gap, bytes, cells changed on screen)",
    )
    parser.add_argument("--top", type=int, default=40, help="functions listed per thread")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    contents = {
        "code": ("```python\nzebra_1 = 42\nprint(zebra_1)\n```\n\nDone.", ("zebra_1",)),
        "plain": ("Zebra1 is the short answer.", ("Zebra1",)),
        # bench_tmux's 4,000-delta answer, sent at once: any of its words will do.
        "long": (long_answer(4000), ("Step ", "values", "parse")),
    }
    content, words = contents[args.answer]
    with tempfile.TemporaryDirectory(prefix="tmux-profile-") as tmp, FakeOpenAI() as fake:
        work = Path(tmp)
        child = work / "child.py"
        child.write_text(CHILD)
        out = work / "samples.json"
        if args.history:
            build_history(work / "home" / "data" / "chat-tui" / "history")
        pane = TimedPane(work, app_env(work / "home", fake.url), (width, height))
        t0 = time.monotonic()
        pane.start([sys.executable, str(child), str(out), str(args.interval)])
        ready, _ = pane.wait_timed(lambda s: "Ask anything" in s, "the prompt", t0)
        print(f"ready {1000 * (ready - t0):.0f} ms (sampling slows the program a little)")
        fake.script(Reply(content=content))
        pane.type("question 1")
        pane.wait_timed(lambda s: "question 1" in s, "the typed question", time.monotonic())
        t_enter = time.monotonic()
        pane.keys("Enter")
        shown, _ = pane.wait_timed(lambda s: any(w in s for w in words), str(words), t_enter)
        print(f"first token ({args.answer}, first after launch): {1000 * (shown - t_enter):.0f} ms")
        pane.settle()
        opened: tuple[float, float] | None = None
        if args.history and args.open_big:
            pane.wait_cpu_idle()
            before = pane.screen()
            t_key = time.monotonic()
            pane.keys("C-Down")
            frames: list[tuple[float, int, bool]] = []
            if args.frames:
                frames = watch_frames(pane, before)
            # With --frames the screen was read after each write: the first that shows it.
            t_big = next((t for t, _, shown in frames if shown), None) or pane.wait_timed(
                lambda s: BIG_END in s, BIG_END, t_key
            )[0]
            opened = (t_key, t_big)
            print(f"open the 2,000-message session: {1000 * (t_big - t_key):.0f} ms")
            pane.settle()
            if args.frames:
                print_frames(frames, pane, t_key)
        pane.keys("C-q")
        pane.wait_exited()
        pane.close()
        samples = json.loads(out.read_text())
        print("\n== from launch until the prompt is on screen")
        report(samples, t0, ready, args.top)
        print("\n== from Enter until the answer's first word is on screen")
        report(samples, t_enter, shown, args.top)
        if opened is not None:
            print("\n== from ctrl+down until the big session's last message is on screen")
            report(samples, *opened, args.top)


if __name__ == "__main__":
    main()
