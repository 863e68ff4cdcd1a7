"""Start-up time to the first interactive frame, and opening a large session.

Builds a history of 1,000 sessions / 50,000 messages (one of them 2,000 messages
long) in a temp dir, then starts the real ``chat-tui`` entry point in a fresh
interpreter with a hook that prints the time of the App's Ready event (first
frame painted, input accepted) and exits. Repeats and prints the median.
Also prints when the open session's history (mounted just after the first frame) is
painted. Then times opening the 2,000-message session in the running App.

    python bench/bench_startup.py [--runs 5] [--size 160x45]

chat_tui's bytecode is compiled first (``compile_bytecode``), as an installed package's
is: run from a checkout with ``PYTHONDONTWRITEBYTECODE`` set, every start compiled its
~80 modules from source (~0.4 s more, not what a user's ``chat-tui`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CHILD = r"""
import importlib.util, os, sys, time
t0, ready_file = float(sys.argv[1]), sys.argv[2]
tasks = set()
class HookReady:
    # ChatApp gets its Ready hook as its module is imported by the real start: importing
    # it here first would import Textual before chat_tui.launch.main does its set-up.
    def find_spec(self, name, path, target=None):
        if name != "chat_tui.tui.app":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run_module = spec.loader.exec_module
        def exec_module(module):
            run_module(module)
            module.ChatApp.on_ready = _ready
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, HookReady())
def _ready(self):
    ready = time.time() - t0  # first frame painted, prompt focused: the app is usable
    import asyncio
    async def wait_for_history():
        # Waiting in the Ready handler itself would hold the App's message queue, and
        # the history is mounted by messages that queue has to deliver: it would hang.
        await self.chat_screen.history_shown()  # the open session's messages are mounted...
        def done():  # ...and painted
            # The running App captures print(); the figures go to a file instead.
            with open(ready_file, "w") as out:
                out.write(f"READY {ready:.4f} HISTORY {time.time() - t0:.4f}")
            self.exit()
        self.call_after_refresh(done)
    task = asyncio.get_running_loop().create_task(wait_for_history())
    tasks.add(task)  # keep a reference: the loop holds tasks only weakly
sys.argv = ["chat-tui"]
from chat_tui.launch import main
main()
"""


def load() -> str:
    """The load average, printed beside every figure: the machine is shared."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def compile_bytecode() -> None:
    """Write the ``__pycache__`` of this checkout's chat_tui, if that is the one imported.

    Another checkout's (a run of this file against an installed chat-tui) is left alone.
    """
    spec = importlib.util.find_spec("chat_tui")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            if Path(folder).resolve().is_relative_to(ROOT):
                compileall.compile_dir(folder, quiet=1)


def populate_big(history_dir: Path) -> str:
    from bench_storage import populate

    populate(history_dir, sessions=1000, messages=48000)
    from chat_tui.domain.models import Message
    from chat_tui.storage.tinydb_repo import TinyDBRepository

    repo = TinyDBRepository(history_dir)
    big = repo.create_session("assistant", "2,000-message session")
    for i in range(1000):
        repo.append_message(
            Message(
                session_id=big.id, role="user", content=f"Question {i}: how does **this** work?"
            )
        )
        repo.append_message(
            Message(
                session_id=big.id,
                role="assistant",
                content=f"Answer {i}.\n\n```python\nprint({i})\n```\n",
            )
        )
    repo.close()
    return big.id


def startup_runs(data: Path, runs: int) -> list[tuple[float, float]]:
    env = dict(
        os.environ,
        XDG_DATA_HOME=str(data),
        XDG_CONFIG_HOME=str(data / "cfg"),
        TERM="xterm-256color",
        OPENAI_API_KEY="sk-bench",
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
    )
    times: list[tuple[float, float]] = []
    for _ in range(runs):
        # A pseudo-terminal is needed for Textual's real driver; `script` provides one.
        child = data / "child.py"
        child.write_text(CHILD)
        ready = data / "ready.txt"
        ready.unlink(missing_ok=True)
        t0 = time.time()
        out = subprocess.run(
            ["script", "-qfec", f"{sys.executable} {child} {t0} {ready}", "/dev/null"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        line = ready.read_text() if ready.exists() else ""
        if not line.startswith("READY "):
            raise SystemExit(f"no READY line: {out.stdout[-500:]} {out.stderr[-500:]}")
        times.append((float(line.split()[1]), float(line.split()[3])))
    return times


async def last_answer_painted(app: Any) -> None:
    """Wait for the frame that shows the last answer's text (its Markdown's blocks).

    A Markdown widget parses its text and mounts its blocks a few frames after it is
    mounted itself, so the first frame after an open shows the last answer empty.
    """
    chat = app.chat_screen.chat_view
    while True:
        last = chat.children[-1] if chat.children else None
        markdown = getattr(last, "markdown", None)
        if markdown is not None and markdown.children:
            break
        await app.screen.wait_for_refresh()
    await app.screen.wait_for_refresh()


async def open_big_session(
    data: Path, session_id: str, tune: bool = True, size: tuple[int, int] = (120, 40)
) -> tuple[list[float], list[float]]:
    from chat_tui.config import load_settings
    from chat_tui.services.bootstrap import open_services
    from chat_tui.tui.app import make_app

    settings = load_settings(
        config_file=data / "none.toml",
        env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
        data_dir=data / "chat-tui",
    )
    services = open_services(settings, context=None)
    app = make_app(services, check_setup=False)
    if tune:
        # As `chat-tui` does before it runs the app (and bench_streaming does): without
        # it, each open here ran a full collection of this process's 50,000 freshly
        # built messages (~150 ms CPU), a heap the app's own process does not have.
        from chat_tui.tui.gc_tuning import tune_gc

        tune_gc(freeze=True)
    async with app.run_test(size=size) as pilot:
        await app.chat_screen.history_shown()
        await pilot.pause()
        big = services.repository.get_session(session_id)
        other = next(s for s in services.repository.list_sessions() if s.id != session_id)
        await app.chat_screen.open_session(other)
        await pilot.pause()
        painted: list[float] = []
        settled: list[float] = []
        for _ in range(3):  # the first read of the big file is cold; switch away in between
            start = time.perf_counter()
            await app.chat_screen.open_session(big)
            await last_answer_painted(app)
            painted.append(time.perf_counter() - start)
            # Until the app is idle: the rest of the page mounted above, the sidebar,
            # the context gauge (the figure this bench printed before).
            await pilot.pause()
            settled.append(time.perf_counter() - start)
            await app.chat_screen.open_session(other)
            await pilot.pause()
    services.close()
    return painted, settled


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--default-gc", action="store_true", help="open with CPython's GC settings, not the app's"
    )
    parser.add_argument(
        "--size", default="120x40", help="the headless app's size for the open figures"
    )
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        t = time.perf_counter()
        big = populate_big(data / "chat-tui" / "history")
        print(f"populated 1,000 sessions / 50,000 messages in {time.perf_counter() - t:.1f} s")
        compile_bytecode()
        runs = startup_runs(data, args.runs)
        for label, times in (
            ("start-up to first interactive frame", [r for r, _ in runs]),
            ("start-up until the open session's history is painted", [h for _, h in runs]),
        ):
            print(
                f"{label}: median {statistics.median(times) * 1000:.0f} ms, "
                f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
                f"over {len(times)} runs (target < 400 ms); {load()}"
            )
        painted, settled = asyncio.run(
            open_big_session(data, big, tune=not args.default_gc, size=(width, height))
        )
        print(
            f"open a 2,000-message session at {args.size}, until its last screen is painted: "
            + ", ".join(f"{t * 1000:.0f}" for t in painted)
            + " ms (target < 150 ms)"
        )
        print(
            "open a 2,000-message session (storage + mount + first paint), until idle: "
            + ", ".join(f"{t * 1000:.0f}" for t in settled)
            + f" ms; {load()}"
        )


if __name__ == "__main__":
    main()
