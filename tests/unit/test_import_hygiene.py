"""Layering: only chat_tui.tui imports Textual; importing the package does no heavy work."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import chat_tui


def _non_ui_modules() -> list[str]:
    """Every module of the package outside ``chat_tui.tui``, found by walking it."""
    root = Path(chat_tui.__file__).parent
    found = ["chat_tui"]
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[0] == "tui" or parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found.append(".".join(("chat_tui", *parts)))
    return found


NON_UI = _non_ui_modules()


def test_the_walk_finds_every_layer() -> None:
    for layer in ("config", "domain.models", "storage.tinydb_repo", "llm.client", "cli"):
        assert f"chat_tui.{layer}" in NON_UI
    assert len(NON_UI) > 40 and not any(m.startswith("chat_tui.tui") for m in NON_UI)


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
    for heavy in ("openai", "pymilvus", "pypdf", "docx", "bs4", "lxml", "markdown_it"):
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


def _tui_sources() -> list[Path]:
    return sorted((Path(chat_tui.__file__).parent / "tui").rglob("*.py"))


def test_the_tui_never_imports_storage() -> None:
    """The TUI reaches history only through the async services (storage work in threads)."""
    offenders = []
    for path in _tui_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("chat_tui.storage")]
    assert _tui_sources() and not offenders


def test_the_tui_never_touches_the_repository() -> None:
    """A repository call on the event loop fsyncs or parses a file while frames wait."""
    offenders = [
        f"{path.name}:{node.lineno}"
        for path in _tui_sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "repository"
    ]
    assert not offenders, offenders


_HEAVY_FOR_COMMANDS = ("textual", "openai", "pymilvus", "grpc", "jieba", "httpx", "rich")


def imported_by_command(argv: list[str], tmp_path: Path) -> set[str]:
    """The modules a ``chat-tui`` process imported to run ``argv`` (the real entry point)."""
    code = (
        "import sys, json, atexit\n"
        "atexit.register(lambda: print('MODULES ' + json.dumps(sorted(sys.modules))))\n"
        f"sys.argv = ['chat-tui', *{argv!r}]\n"
        "from chat_tui.launch import main\n"
        "main()\n"
    )
    env = {
        "CHAT_TUI_DATA_DIR": str(tmp_path / "data"),
        "CHAT_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "PATH": "",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("MODULES "))
    return {m.split(".", 1)[0] for m in json.loads(line.removeprefix("MODULES "))}


def test_version_imports_neither_typer_nor_the_clients(tmp_path: Path) -> None:
    modules = imported_by_command(["--version"], tmp_path)
    for heavy in ("typer", "click", "pydantic", "asyncio", *_HEAVY_FOR_COMMANDS):
        assert heavy not in modules, f"chat-tui --version imports {heavy}"


@pytest.mark.parametrize("argv", [["sessions", "list"], ["roles", "list"]])
def test_listing_imports_no_argument_parser_and_no_client(argv: list[str], tmp_path: Path) -> None:
    modules = imported_by_command(argv, tmp_path)
    for heavy in ("typer", "pydantic", *_HEAVY_FOR_COMMANDS):
        assert heavy not in modules, f"chat-tui {' '.join(argv)} imports {heavy}"


def test_a_plain_kb_search_imports_no_argument_parser(tmp_path: Path) -> None:
    # No knowledge base yet: nothing to open, so not even the store's client is needed.
    modules = imported_by_command(["kb", "search", "hello", "--top", "3"], tmp_path)
    for heavy in ("typer", "click", "pydantic", *_HEAVY_FOR_COMMANDS):
        assert heavy not in modules, f"chat-tui kb search imports {heavy}"


def test_kb_search_help_imports_no_store_and_no_ui(tmp_path: Path) -> None:
    modules = imported_by_command(["kb", "search", "--help"], tmp_path)
    assert "typer" in modules  # typer prints the help: the probe sees real imports
    for heavy in ("textual", "openai", "pymilvus", "grpc", "jieba", "httpx"):
        assert heavy not in modules, f"chat-tui kb search --help imports {heavy}"


def _chat_tui_imports(module: str) -> set[str]:
    """Every ``chat_tui`` module ``module``'s source imports, at the top or in functions."""
    relative = module.removeprefix("chat_tui.").replace(".", "/")
    path = Path(chat_tui.__file__).parent / f"{relative}.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "chat_tui":
                found |= {f"chat_tui.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("chat_tui")}


def test_the_command_modules_import_one_way() -> None:
    """launch -> cli -> cli_commands -> cli_support/cli_ingest: no import back up, even in a
    function."""
    below = {
        "chat_tui.cli_support": {"chat_tui.cli", "chat_tui.cli_commands", "chat_tui.launch"},
        "chat_tui.cli_commands": {"chat_tui.cli", "chat_tui.launch"},
        "chat_tui.cli_transfer": {"chat_tui.cli", "chat_tui.cli_commands", "chat_tui.launch"},
        "chat_tui.cli_doctor": {"chat_tui.cli", "chat_tui.cli_commands", "chat_tui.launch"},
        "chat_tui.cli_ingest": {"chat_tui.cli", "chat_tui.cli_commands", "chat_tui.launch"},
        "chat_tui.cli_kb_search": {"chat_tui.cli", "chat_tui.cli_commands", "chat_tui.launch"},
        "chat_tui.cli": {"chat_tui.launch"},
    }
    for module, forbidden in below.items():
        imports = _chat_tui_imports(module)
        assert "chat_tui.errors" in imports or "chat_tui.domain.text" in imports, module
        assert not imports & forbidden, f"{module} imports {imports & forbidden}"


def _import_graph() -> dict[str, set[str]]:
    """Module -> the ``chat_tui`` modules it imports (at the top or in a function)."""
    root = Path(chat_tui.__file__).parent
    paths: dict[str, Path] = {}
    for path in root.rglob("*.py"):
        parts = ("chat_tui", *path.relative_to(root).with_suffix("").parts)
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        # A module's own packages run first anyway: importing them is no cycle.
        graph[module] = {
            name for name in found if name in paths and not module.startswith(name + ".")
        } - {module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(group)
    return groups


def test_no_import_cycles_even_through_function_level_imports() -> None:
    graph = _import_graph()
    assert graph["chat_tui.ingest.loaders"] and graph["chat_tui.ingest.html_text"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert _cycles(graph) == []


#: The layers, lowest first: a module imports only from layers below its own (and from
#: its own package). Packages on one layer never import each other.
LAYERS: list[set[str]] = [
    {"errors"},
    {"domain"},
    {"locations"},
    {"config"},
    {"logs", "storage", "llm", "retrieval"},
    {"state", "ingest"},
    {"services"},
    {"tui", "cli_ingest"},
    {"cli_argv"},
    {"cli_support"},
    {"cli_kb_search"},
    {"cli_commands", "cli_transfer", "cli_doctor", "cli_images"},
    {"cli_search"},
    {"cli"},
    {"cli_ask"},  # runs typer's ask function, with its plain arguments read by launch
    {"launch"},
    {"__main__"},
]


def _layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    for rank, names in enumerate(LAYERS):
        if top in names:
            return rank
    raise AssertionError(f"{module} is on no layer: add its package to LAYERS")


def test_imports_go_down_the_layers_only() -> None:
    """domain <- config <- storage/llm/retrieval <- ingest <- services <- tui/cli."""
    graph = _import_graph()
    assert {"chat_tui.tui.app", "chat_tui.services.chat", "chat_tui.domain.models"} <= set(graph)
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module != "chat_tui"
        for target in targets
        if target != "chat_tui"
        and module.split(".")[1] != target.split(".")[1]
        and _layer_of(module) <= _layer_of(target)
    )
    assert wrong == []


def _tui_import_graph() -> dict[str, set[str]]:
    """Each ``chat_tui.tui`` module and the ``chat_tui.tui`` modules its source imports.

    Every import counts: at the top, under ``TYPE_CHECKING`` and inside functions (a
    cycle hidden there is still a cycle, only one mypy and the reader pay for).
    """
    root = Path(chat_tui.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in _tui_sources():
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            continue
        module = ".".join(("chat_tui", *parts))
        graph[module] = {m for m in _chat_tui_imports(module) if m.startswith("chat_tui.tui.")}
    return graph


def test_only_launch_code_imports_the_app() -> None:
    """The screens, widgets and helpers reach the App through small protocols, not app.py."""
    graph = _tui_import_graph()
    importers = sorted(m for m, imports in graph.items() if "chat_tui.tui.app" in imports)
    assert "chat_tui.tui.screens.chat" in graph and "chat_tui.tui.turn" in graph
    assert importers == []
    assert "chat_tui.tui.app" in _chat_tui_imports("chat_tui.cli_support")  # launch code


def test_the_tui_has_no_import_cycle() -> None:
    graph = _tui_import_graph()

    def reaches(start: str, target: str) -> bool:
        seen: set[str] = set()
        todo = list(graph.get(start, ()))
        while todo:
            module = todo.pop()
            if module == target:
                return True
            if module not in seen:
                seen.add(module)
                todo.extend(graph.get(module, ()))
        return False

    cycles = sorted(m for m in graph if reaches(m, m))
    assert not cycles, f"modules on an import cycle: {cycles}"
