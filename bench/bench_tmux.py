"""What a person sees: the installed ``chat-tui`` in a real terminal (tmux), timed.

The other benchmarks time the App headless (Pilot) or up to its Ready event; this one
times what reaches the screen of a real terminal, the way issue 12 ("Every frame on
time") states its targets. It runs the installed binary (``.venv/bin/chat-tui`` beside
this interpreter) in a private tmux server (TERM=xterm-256color) at 160x45 and 80x24,
in an isolated HOME/XDG dir with the e2e tests' config, against the fake
OpenAI-compatible server of ``tests/support`` on 127.0.0.1 (in this process).

Each moment is taken from the program's raw output: ``pipe-pane`` copies every byte it
writes into a FIFO, the bench blocks on that FIFO (no polling sleeps), stamps each
write, and looks at the screen (``capture-pane``) after it. A figure is the time of the
write after which the screen first showed the thing waited for (accurate to about one
``capture-pane``, a few ms; more when the machine is loaded).

Figures (ms; median and max over ``--runs``, per size):

* ``ready, empty`` / ``ready, 1000x50``: from starting the program (``tmux new-session``)
  until the prompt ("Ask anything") is on screen, with no history, and with 1,000
  sessions x 50 messages (written through chat_tui's own TinyDB storage, as
  ``bench_startup.py`` does).
* ``first token, plain|code, first|later``: from Enter until the first word of the
  answer is on screen, for a one-line answer and for one that opens with a fenced code
  block; "first" is the first question of a fresh launch (asked as soon as the prompt
  shows), "later" the next question in that launch.
* ``stream N@R/s`` and ``stream N unpaced``: a ~4,000-delta Markdown answer with code
  blocks (4 characters a delta), paced by the server at R deltas/s or sent at once.
  ``frozen`` is the longest interval, from the first answer word on screen until the
  last one, in which the screen's text did not change (the echoed keys aside), and
  ``frozen, before [DONE]`` the longest such interval that began while the server was
  still sending (the rest is the final render);
  ``no write`` the longest in which the program wrote nothing at all (an event loop
  that is blocked writes nothing; one that only blinks the cursor still writes);
  ``echo`` the time from typing a key into the prompt (one every ``--echo-every`` s
  while the answer streams) until it shows;
  ``total`` from Enter until the last word is on screen; ``server sent all`` from Enter
  until the server sent ``[DONE]`` (its pacing is slower than R when the machine is
  loaded: ``total`` minus this is what the screen lagged behind at the end).
* ``open 2000-msg session``: from ctrl+down (the next session of the role; the
  2,000-message session is placed next after the newest one) until its last message is
  on screen. The key is pressed once the program is idle (under 5% of a core for
  0.5 s), not only quiet: the warm-up after the first frame (the chat client's and the
  renderer's imports) otherwise shares the CPU with the open it times.

Run (needs tmux and ``pip install -e .``)::

    python bench/bench_tmux.py --runs 5
    python bench/bench_tmux.py --runs 1 --sizes 80x24 --skip history   # a quick look

The load average is printed with each group of figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_startup import compile_bytecode  # noqa: E402
from bench_streaming import SECTION  # noqa: E402  (the same code-heavy answer)

from tests.e2e.conftest import BINARY, app_env  # noqa: E402
from tests.e2e.tmux import Tmux, tmux_available  # noqa: E402
from tests.support.fake_openai import FakeOpenAI, Reply  # noqa: E402

PROMPT = "Ask anything"
TIMEOUT = 120.0
ECHO_CHAR = "~"  # absent from every answer the bench streams
BIG_END = "BIGEND-1999"
STREAM_END = "STREAMEND-4000"


class StampedFake(FakeOpenAI):
    """The fake server, noting when (``time.monotonic``) each chat request arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        self.arrivals.append(time.monotonic())
        super()._record(body, headers)


def long_answer(deltas: int, chunk: int = 4) -> str:
    """Whole Markdown sections (code blocks closed) of about ``deltas * chunk`` characters."""
    text = ""
    n = 1
    while len(text) < deltas * chunk - 40:
        text += SECTION.format(n=n)
        n += 1
    return text + f"The end: {STREAM_END}.\n"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


class TimedPane(Tmux):
    """A tmux pane whose raw output writes are time-stamped as they arrive."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.writes: list[float] = []  # monotonic time of each read of the output FIFO
        self.write_bytes: list[int] = []  # and how many bytes that read got

    def pump(self, timeout: float) -> float | None:
        """Block up to ``timeout`` for output; the time it arrived, or None."""
        fd = self._fd
        assert fd is not None
        ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
        if not ready:
            return None
        stamp = time.monotonic()
        got = 0
        try:
            while chunk := os.read(fd, 1 << 16):
                got += len(chunk)
        except BlockingIOError:
            pass
        self.writes.append(stamp)
        self.write_bytes.append(got)
        return stamp

    def wait_timed(
        self,
        condition: Callable[[str], bool],
        what: str,
        since: float,
        timeout: float = TIMEOUT,
    ) -> tuple[float, str]:
        """Wait for ``condition(screen)``; (time of the write that made it true, screen)."""
        deadline = time.monotonic() + timeout
        stamp = since
        while True:
            screen = self.screen()
            if condition(screen):
                return stamp, screen
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{screen}")
            # A bounded wait: output written before pipe-pane was attached has no event.
            got = self.pump(min(0.05, left))
            if got is not None:
                stamp = got

    def close(self) -> None:
        """Stop the tmux server and remove its socket file (tmux leaves it behind)."""
        super().close()
        base = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (base / self.socket).unlink(missing_ok=True)

    def pane_pid(self) -> int:
        """The pid of the program in the pane (tmux runs the command as the pane's process)."""
        out = self._tmux("display-message", "-p", "-t", self.target, "#{pane_pid}")
        return int(out.stdout.strip())

    def wait_cpu_idle(
        self, below: float = 0.05, window: float = 0.5, timeout: float = 30.0
    ) -> float:
        """Wait until the program used under ``below`` of a core over ``window`` s.

        No output is not idle: after the prompt shows, the warm-up thread imports the
        chat client and the renderer for another second or so, and a key pressed then
        timed that work as much as the key's own. Returns the share of a core of the
        last window (above ``below`` when it timed out). Reads /proc (Linux).
        """
        stat = Path(f"/proc/{self.pane_pid()}/stat")
        ticks = os.sysconf("SC_CLK_TCK")

        def cpu() -> float:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

        deadline = time.monotonic() + timeout
        share = 1.0
        while time.monotonic() < deadline:
            start, used = time.monotonic(), cpu()
            # Output is drained meanwhile, so it is not stamped later as the key's.
            while (left := start + window - time.monotonic()) > 0:
                self.pump(left)
            share = (cpu() - used) / (time.monotonic() - start)
            if share < below:
                break
        return share

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until the program has written nothing for ``quiet`` s (set-up, not timing)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pump(quiet) is not None:
            pass


@dataclass
class Figures:
    """Named samples in seconds, plus the load average seen when each was taken."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    loads: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)
        self.loads.setdefault(name, []).append(os.getloadavg()[0])

    def table(self) -> str:
        width = max((len(n) for n in self.samples), default=10)
        lines = [f"{'figure':<{width}}  {'median':>8}  {'max':>8}  runs  load(1m)"]
        for name, values in self.samples.items():
            loads = self.loads[name]
            lines.append(
                f"{name:<{width}}  {statistics.median(values) * 1000:>8.0f}  "
                f"{max(values) * 1000:>8.0f}  {len(values):>4}  "
                f"{min(loads):.1f}-{max(loads):.1f}"
            )
        return "\n".join(lines)


class Bench:
    """One size: launches chat-tui in tmux as often as the figures need."""

    def __init__(self, fake: StampedFake, workdir: Path, size: tuple[int, int]) -> None:
        self.fake = fake
        self.workdir = workdir
        self.size = size
        self.tag = f"{size[0]}x{size[1]}"
        self.counter = 0

    def launch(self, home: Path) -> tuple[TimedPane, float]:
        """Start chat-tui in ``home``; (pane, seconds until the prompt is on screen)."""
        pane = TimedPane(self.workdir, app_env(home, self.fake.url), self.size)
        t0 = time.monotonic()
        try:
            pane.start([str(BINARY)])
            shown, _ = pane.wait_timed(lambda s: PROMPT in s, "the prompt", t0)
        except BaseException:
            pane.close()
            raise
        return pane, shown - t0

    def ask(self, pane: TimedPane, reply: Reply, marker: str) -> float:
        """Type a question, press Enter; seconds until ``marker`` is on screen."""
        return self.ask_split(pane, reply, marker)[0]

    def ask_split(self, pane: TimedPane, reply: Reply, marker: str) -> tuple[float, float, float]:
        """As ``ask``; (Enter to screen, Enter to the request's arrival, arrival to screen)."""
        self.counter += 1
        question = f"question {self.counter}"
        self.fake.script(reply)
        pane.type(question)
        pane.wait_timed(lambda s: question in s, "the typed question", time.monotonic())
        arrived = len(self.fake.arrivals)
        t_enter = time.monotonic()
        pane.keys("Enter")
        shown, _ = pane.wait_timed(lambda s: marker in s, repr(marker), t_enter)
        t_request = self.fake.arrivals[arrived]
        pane.settle()  # let the answer finish before the next step
        return shown - t_enter, t_request - t_enter, shown - t_request

    def add_first_token(self, figures: Figures, name: str, split: tuple[float, ...]) -> None:
        total, to_request, to_screen = split
        figures.add(f"{self.tag} first token, {name}", total)
        figures.add(f"{self.tag} first token, {name}, to request", to_request)
        figures.add(f"{self.tag} first token, {name}, request to screen", to_screen)

    def first_tokens(self, figures: Figures) -> None:
        """Two launches: plain first then code, and code first then plain."""
        plain = lambda n: (Reply(content=f"Zebra{n} is the short answer."), f"Zebra{n}")  # noqa: E731
        code = lambda n: (  # noqa: E731
            Reply(content=f"```python\nzebra_{n} = 42\nprint(zebra_{n})\n```\n\nDone."),
            f"zebra_{n}",
        )
        for first, later, names in (
            (plain, code, ("plain", "code")),
            (code, plain, ("code", "plain")),
        ):
            home = Path(tempfile.mkdtemp(dir=self.workdir, prefix="home-"))
            pane, ready = self.launch(home)
            try:
                figures.add(f"{self.tag} ready, empty history", ready)
                split = self.ask_split(pane, *first(self.counter + 1))
                self.add_first_token(figures, f"{names[0]}, first", split)
                split = self.ask_split(pane, *later(self.counter + 1))
                self.add_first_token(figures, f"{names[1]}, later", split)
            finally:
                pane.close()
                shutil.rmtree(home, ignore_errors=True)

    def stream(self, figures: Figures, deltas: int, rate: float | None, echo_every: float) -> None:
        """One launch: a warm-up question, then the long answer with keys typed meanwhile."""
        home = Path(tempfile.mkdtemp(dir=self.workdir, prefix="home-"))
        pane, _ = self.launch(home)
        label = (
            f"{self.tag} stream {deltas}@{rate:g}/s"
            if rate
            else f"{self.tag} stream {deltas} unpaced"
        )
        try:
            self.ask(pane, Reply(content="Zebra0 warm."), "Zebra0")
            text = long_answer(deltas)
            self.fake.script(Reply(content=text, chunk_chars=4, delay=1 / rate if rate else 0.0))
            self.counter += 1
            question = f"question {self.counter}"
            pane.type(question)
            pane.wait_timed(lambda s: question in s, "the typed question", time.monotonic())
            base = pane.screen().count(ECHO_CHAR)
            completed = self.fake.completed_streams
            pane.writes.clear()
            t_enter = time.monotonic()
            pane.keys("Enter")
            # Any of the answer's words: an answer rendered in one frame may have
            # scrolled its first line away already.
            words = ("Step ", "values", "parse", STREAM_END)
            t_first: float | None = None
            last_screen = ""
            changes: list[float] = []
            echoes: list[float] = []
            typed = 0
            echo_sent: float | None = None
            next_echo = 0.0
            deadline = t_enter + TIMEOUT
            stamp = t_enter
            t_served: float | None = None
            while True:
                if t_served is None and self.fake.completed_streams > completed:
                    t_served = time.monotonic()  # within one pump (50 ms) of the [DONE]
                screen = pane.screen()
                # The keys typed meanwhile change the screen too; they must not count
                # as the answer moving on.
                answer = screen.replace(ECHO_CHAR, "")
                if answer != last_screen:
                    changes.append(stamp)
                    last_screen = answer
                if t_first is None and any(w in screen for w in words):
                    t_first = stamp
                    next_echo = time.monotonic() + echo_every / 2
                if echo_sent is not None and screen.count(ECHO_CHAR) >= base + typed:
                    echoes.append(stamp - echo_sent)
                    echo_sent = None
                if STREAM_END in screen:
                    t_last = stamp
                    break
                now = time.monotonic()
                if now > deadline:
                    raise AssertionError(f"the answer never ended; the screen:\n{screen}")
                if t_first is not None and echo_sent is None and now >= next_echo:
                    typed += 1
                    echo_sent = time.monotonic()
                    pane.type(ECHO_CHAR)
                    next_echo = echo_sent + echo_every
                got = pane.pump(0.05)
                if got is not None:
                    stamp = got
            while t_served is None and time.monotonic() < deadline:
                pane.pump(0.05)
                if self.fake.completed_streams > completed:
                    t_served = time.monotonic()
            assert t_first is not None and t_served is not None
            window = [t for t in changes if t_first <= t <= t_last]
            writes = [t for t in pane.writes if t_first <= t <= t_last]
            figures.add(f"{label} first token", t_first - t_enter)
            figures.add(
                f"{label} frozen", max(b - a for a, b in zip(window, window[1:], strict=False))
            )
            # The brief's "while tokens were arriving": intervals that began before the
            # server's [DONE]; the rest is the final render.
            arriving = [b - a for a, b in zip(window, window[1:], strict=False) if a < t_served]
            if arriving:
                figures.add(f"{label} frozen, before [DONE]", max(arriving))
            figures.add(
                f"{label} no write",
                max((b - a for a, b in zip(writes, writes[1:], strict=False)), default=0.0),
            )
            for echo in echoes:
                figures.add(f"{label} echo", echo)
            figures.add(f"{label} total", t_last - t_enter)
            figures.add(f"{label} server sent all", t_served - t_enter)
            pane.settle()
        finally:
            pane.close()
            shutil.rmtree(home, ignore_errors=True)

    def history(self, figures: Figures, pristine: Path) -> None:
        """One launch on a copy of the big history: ready, then ctrl+down to 2,000 messages."""
        home = Path(tempfile.mkdtemp(dir=self.workdir, prefix="home-"))
        history = home / "data" / "chat-tui" / "history"
        shutil.copytree(pristine, history)
        # A copy has new inodes, so the first open re-reads every session file to check
        # it (13 s here for 1,000 sessions): heal the copy first, untimed, so the figure
        # is an ordinary launch, not the first one after a restore.
        from chat_tui.storage.tinydb_repo import TinyDBRepository

        with TinyDBRepository(history) as repository:
            repository.list_sessions()
        pane, ready = self.launch(home)
        try:
            figures.add(f"{self.tag} ready, 1000x50 history", ready)
            pane.settle()
            busy = pane.wait_cpu_idle()
            if busy >= 0.05:
                print(f"{self.tag}: chat-tui still used {busy:.0%} of a core before ctrl+down")
            t_key = time.monotonic()
            pane.keys("C-Down")
            shown, _ = pane.wait_timed(lambda s: BIG_END in s, BIG_END, t_key)
            figures.add(f"{self.tag} open 2000-msg session", shown - t_key)
        finally:
            pane.close()
            shutil.rmtree(home, ignore_errors=True)


def build_history(history_dir: Path) -> None:
    """1,000 sessions x 50 messages, and a 2,000-message session next after the newest."""
    from bench_storage import populate

    from chat_tui.domain.models import Message, Session
    from chat_tui.storage.tinydb_repo import TinyDBRepository
    from tests.support.history import import_sessions

    populate(history_dir, sessions=1000, messages=50000)
    with TinyDBRepository(history_dir) as repository:
        newest = repository.list_sessions("assistant")[0]
        start = newest.updated_at - 2000 * 0.01 - 1.0
        big = Session(
            role="assistant",
            title="2,000-message session",
            titled=True,
            created_at=start,
            updated_at=start,
        )
        messages = []
        for i in range(1000):
            messages.append(
                Message(
                    session_id=big.id,
                    role="user",
                    content=f"Question {i}: how does **this** work?",
                    created_at=start + i * 0.02,
                )
            )
            end = f" {BIG_END}" if i == 999 else ""
            messages.append(
                Message(
                    session_id=big.id,
                    role="assistant",
                    content=f"Answer {i}.\n\n```python\nprint({i})\n```\n{end}",
                    created_at=start + i * 0.02 + 0.01,
                    model="bench-model",
                )
            )
    import_sessions(history_dir, [(big, messages)])
    with TinyDBRepository(history_dir) as repository:
        order = [s.id for s in repository.list_sessions("assistant")]
        assert order.index(big.id) == 1, "the big session must come next after the newest"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="160x45,80x24")
    parser.add_argument("--deltas", type=int, default=4000)
    parser.add_argument("--rate", type=float, default=200.0, help="paced stream, deltas/s")
    parser.add_argument("--echo-every", type=float, default=0.5)
    parser.add_argument(
        "--skip", default="", help="comma-separated: first, stream, unpaced, history"
    )
    args = parser.parse_args()
    if not tmux_available() or not BINARY.exists():
        raise SystemExit(f"needs tmux and the installed binary {BINARY}")
    skip = set(filter(None, args.skip.split(",")))
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    figures = Figures()
    print(f"chat-tui: {BINARY}; {load()}")
    compile_bytecode()
    fake = StampedFake()
    with tempfile.TemporaryDirectory(prefix="bench-tmux-") as tmp, fake:
        work = Path(tmp)
        pristine = work / "history"
        if "history" not in skip:
            t = time.perf_counter()
            build_history(pristine)
            print(f"history built in {time.perf_counter() - t:.1f} s; {load()}")
        for run in range(args.runs):
            for size in sizes:
                bench = Bench(fake, work, size)  # type: ignore[arg-type]
                if "first" not in skip:
                    bench.first_tokens(figures)
                if "stream" not in skip:
                    bench.stream(figures, args.deltas, args.rate, args.echo_every)
                if "unpaced" not in skip:
                    bench.stream(figures, args.deltas, None, args.echo_every)
                if "history" not in skip:
                    bench.history(figures, pristine)
            print(f"run {run + 1}/{args.runs} done; {load()}", flush=True)
    print()
    print(figures.table())


if __name__ == "__main__":
    main()
