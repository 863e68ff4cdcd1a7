"""What the first frame does not need is not imported before it.

Start-up has a 400 ms budget and importing is most of it: the dialogs (history search,
help, image preview, setup) and the session export load when they first open.
"""

from __future__ import annotations

import json
import subprocess
import sys

LOADED_ON_FIRST_USE = (
    "chat_tui.tui.screens.history_search",
    "chat_tui.tui.screens.help",
    "chat_tui.tui.screens.image_preview",
    "chat_tui.tui.screens.setup",
    "chat_tui.tui.session_export",
    "chat_tui.services.transfer",
    "chat_tui.services.history_search",
    "textual.widgets._data_table",
)


def test_building_the_app_imports_no_dialog() -> None:
    code = (
        "import sys, json\n"
        "from chat_tui.tui.app import make_app\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    modules = set(json.loads(out.stdout))
    assert "chat_tui.tui.screens.chat" in modules
    assert not modules & set(LOADED_ON_FIRST_USE), sorted(modules & set(LOADED_ON_FIRST_USE))
