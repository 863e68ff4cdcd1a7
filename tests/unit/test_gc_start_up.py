"""chat-tui starts with the garbage collector off and runs the app with it on.

Each check runs in a fresh interpreter: freezing the collector in the test process
would change every test after it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(code: str, tmp_path: Path) -> str:
    env = {
        **os.environ,
        "CHAT_TUI_DATA_DIR": str(tmp_path / "data"),
        "CHAT_TUI_CONFIG_DIR": str(tmp_path / "config"),
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_start_up_pauses_the_collector_and_tuning_turns_it_on_again(tmp_path: Path) -> None:
    code = (
        "import gc\n"
        "from chat_tui.tui.gc_tuning import GC_THRESHOLDS, pause_gc_for_start_up, tune_gc\n"
        "pause_gc_for_start_up()\n"
        "print(gc.isenabled())\n"
        "tune_gc(freeze=True)\n"
        "print(gc.isenabled(), gc.get_threshold() == GC_THRESHOLDS, gc.get_freeze_count() > 0)\n"
    )
    assert run(code, tmp_path).splitlines() == ["False", "True True True"]


def test_the_tui_runs_with_the_collector_on(tmp_path: Path) -> None:
    # The real start (``chat_tui.launch.main``) up to ``App.run``: what the app runs with.
    code = (
        "import gc, sys\n"
        "import textual.app\n"
        "seen = []\n"
        "textual.app.App.run = lambda self, *a, **k: seen.append(gc.isenabled())\n"
        "sys.argv = ['chat-tui']\n"
        "from chat_tui.launch import main\n"
        "main()\n"
        "print(seen)\n"
    )
    assert run(code, tmp_path) == "[True]"
