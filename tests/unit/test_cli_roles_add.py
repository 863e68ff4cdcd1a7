"""``chat-tui roles add`` through the real CLI: odd text round-trips, bad input keeps old files."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chat_tui.cli import app
from chat_tui.domain.models import Role
from chat_tui.domain.roles import load_role_file
from chat_tui.services.roles import role_toml


def roles_dir(home: Path) -> Path:
    return home / "xdg-config" / "chat-tui" / "roles"


def add(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["roles", "add", *args])
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--prompt", "bad \x01 control", None),
        ("--prompt", "bytes \udcff from a bad locale", "system_prompt is not valid text"),
        ("-d", "bell \x07", None),
        ("--temperature", "5", "temperature must be a number from 0 to 2"),
        ("--prompt", "   ", "system_prompt must be a non-empty string"),
    ],
)
def test_a_rejected_role_keeps_the_old_file_and_says_one_line(
    isolated_home: Path, option: str, value: str, needle: str | None
) -> None:
    code, _ = add("reviewer", "--prompt", "Review code bluntly.")
    assert code == 0
    path = roles_dir(isolated_home) / "reviewer.toml"
    before = path.read_bytes()

    args = ["reviewer", "--prompt", "Still fine."]
    args = [*args, option, value] if option != "--prompt" else ["reviewer", option, value]
    code, lines = add(*args)

    if needle is None:  # escapable text is not an error: it is saved and reads back
        assert code == 0, lines
        role = load_role_file(path)
        assert value.strip() in (role.system_prompt, role.description)
    else:
        assert code == 2 and len(lines) == 1, lines
        assert lines[0].startswith("chat-tui: ") and needle in lines[0], lines
        assert "nothing was saved" in lines[0]
        assert path.read_bytes() == before
    assert load_role_file(path).name == "reviewer"
    assert sorted(p.name for p in path.parent.iterdir()) == ["reviewer.toml"]  # no temp left


@pytest.mark.parametrize(
    "text",
    [
        'ends with a quote"',
        'ends with two ""',
        'three """ in a row and """"',
        "back\\slash at the end\\",
        "\nleading newline and a trailing one\n",
        "tab\there, CR\r\nLF, lone CR\r, NUL\x00, DEL\x7f, ESC\x1b[31m",
        "中文 and emoji 🙂 and \u2028 line separator",
    ],
)
def test_role_text_round_trips_exactly(text: str) -> None:
    role = Role(name="r", system_prompt=text, description=text, model=text, knowledge_base=text)
    data = tomllib.loads(role_toml(role))
    assert data == {
        "name": "r",
        "description": text,
        "model": text,
        "knowledge_base": text,
        "system_prompt": text,
    }


def test_a_roles_folder_that_cannot_be_made_is_one_line(isolated_home: Path) -> None:
    blocker = roles_dir(isolated_home)  # a file where the folder should be (root ignores modes)
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder", encoding="utf-8")
    code, lines = add("reviewer", "--prompt", "Review.")
    assert code == 2 and len(lines) == 1, lines
    assert "Cannot save the role file" in lines[0] and str(blocker) in lines[0], lines
    assert blocker.read_text(encoding="utf-8") == "not a folder"
