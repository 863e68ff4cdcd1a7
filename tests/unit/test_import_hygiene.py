"""Layering: only chat_tui.tui imports Textual; importing the package does no heavy work."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

NON_UI = [
    "chat_tui",
    "chat_tui.config",
    "chat_tui.errors",
    "chat_tui.locations",
    "chat_tui.domain.models",
    "chat_tui.domain.prompt",
    "chat_tui.domain.roles",
    "chat_tui.domain.text",
    "chat_tui.storage.tinydb_repo",
    "chat_tui.llm.client",
    "chat_tui.services.chat",
    "chat_tui.services.bootstrap",
    "chat_tui.services.knowledge",
    "chat_tui.retrieval.retriever",
    "chat_tui.retrieval.milvus_store",
    "chat_tui.retrieval.jina",
    "chat_tui.ingest.pipeline",
    "chat_tui.cli",
]


def imported_after(module: str) -> set[str]:
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", NON_UI)
def test_non_ui_modules_never_import_textual(module: str) -> None:
    modules = imported_after(module)
    assert not any(m == "textual" or m.startswith("textual.") for m in modules)
    assert not any(m.startswith("chat_tui.tui") for m in modules)


@pytest.mark.parametrize("module", ["chat_tui", "chat_tui.cli", "chat_tui.tui.app"])
def test_heavy_clients_stay_off_the_startup_path(module: str) -> None:
    modules = imported_after(module)
    # markdown_it: the first frame shows no answer yet (history is mounted right after it).
    for heavy in ("openai", "pymilvus", "pypdf", "docx", "bs4", "markdown_it"):
        assert heavy not in modules, f"{module} imports {heavy} at start-up"


def test_importing_the_package_touches_no_files(tmp_path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "d"), "XDG_CONFIG_HOME": str(tmp_path / "c"), "PATH": ""}
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import chat_tui.cli, chat_tui.tui.app, chat_tui.services.bootstrap",
        ],
        env=env,
        check=True,
    )
    assert not (tmp_path / "d").exists() and not (tmp_path / "c").exists()
