"""The one ACTIONS table, seen from the running App: every action is in the palette and
in help with its keys, and the less common keys of the table do what it says.

Each test drives the real App against the real local fake model server.
"""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable

from chat_tui.tui.app import ChatApp
from chat_tui.tui.commands import ACTIONS
from chat_tui.tui.screens.help import HelpScreen, format_keys
from chat_tui.tui.widgets.chat_view import UserMessage
from chat_tui.tui.widgets.prompt import PromptInput
from tests.support.fake_openai import Reply
from tests.tui.conftest import make_app, notifications, send, until

# ----------------------------------------------------------------------------- palette, help


def palette_entries(app: ChatApp) -> dict[str, str]:
    """Title -> help of every command listed by the open command palette."""
    listed = app.screen.query_one(CommandList)
    found: dict[str, str] = {}
    for index in range(listed.option_count):
        hit = listed.get_option_at_index(index).hit  # type: ignore[attr-defined]
        found[str(hit.text)] = str(hit.help or "")
    return found


def first_palette_entry(app: ChatApp) -> str | None:
    listed = app.screen.query_one(CommandList)
    if not listed.option_count:
        return None
    hit = getattr(listed.get_option_at_index(0), "hit", None)  # None while still searching
    return None if hit is None else str(hit.text)


async def test_command_palette_lists_every_action(services, fake_openai) -> None:
    fake_openai.script(Reply(content="one"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 60)) as pilot:
        await send(pilot, "first")
        before = app.chat_screen.session.id
        await pilot.press("ctrl+p")
        await until(
            pilot,
            lambda: isinstance(app.screen, CommandPalette) and app.screen.has_class("-ready"),
            "command palette ready",
        )
        listed = palette_entries(app)
        roles = app.chat_screen.roles
        assert len(roles) == 3
        assert "Role: programmer" in listed
        # The App offers the same entries for the chat screen.
        offered = {command.title for command in app.get_system_commands(app.screen_stack[0])}
        assert {"New session", "Help", "Model", "Role: programmer"} <= offered
        for action in ACTIONS:
            if not action.bound or action.context != "app":
                assert action.title not in listed, f"{action.id} is a key, not a command"
                continue
            if action.id.startswith("role.") and action.id[-1].isdigit():
                # Role N is offered by the role's name (there is no role beyond the last).
                number = int(action.id.rsplit(".", 1)[1])
                if number <= len(roles):
                    assert f"Role: {roles[number - 1]}" in listed, action.id
                continue
            if action.id == "app.quit":
                assert "Quit" in listed  # Textual's own entry, bound to ChatApp.action_quit
                continue
            assert action.title in listed, f"{action.id}: {action.title!r} not in the palette"
            assert listed[action.title] == action.help
        # Choosing an entry runs its action.
        await pilot.press(*"new ses")
        await until(pilot, lambda: first_palette_entry(app) == "New session", "best match")
        await pilot.press("enter")
        await until(pilot, lambda: app.chat_screen.session.id != before, "a new session")
        assert not isinstance(app.screen, CommandPalette)


async def test_palette_entries_of_app_wide_actions_run_on_the_app(services, fake_openai) -> None:
    """Help is the App's action; its palette entry, run from the chat screen, still opens it."""
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.press("ctrl+p")
        await until(
            pilot,
            lambda: isinstance(app.screen, CommandPalette) and app.screen.has_class("-ready"),
            "command palette ready",
        )
        await pilot.press(*"help")
        await until(pilot, lambda: first_palette_entry(app) == "Help", "best match")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help from the palette")


def expand_ids(cell: str) -> list[str]:
    """'role.1 … role.9' -> role.1 .. role.9; any other cell is one id."""
    if "…" not in cell:
        return [cell]
    first, last = (part.strip() for part in cell.split("…"))
    prefix = first.rsplit(".", 1)[0]
    low, high = int(first.rsplit(".", 1)[1]), int(last.rsplit(".", 1)[1])
    return [f"{prefix}.{n}" for n in range(low, high + 1)]


async def test_help_lists_every_binding_id_with_its_keys(services, fake_openai) -> None:
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        table = app.screen.query_one(DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        keys_by_id: dict[str, str] = {}
        for keys, _description, ids in rows:
            for binding_id in expand_ids(ids):
                keys_by_id[binding_id] = keys
        shown = {(keys, description) for keys, description, _ in rows}
        for action in ACTIONS:
            if not action.bound:
                # Keys the prompt handles itself: listed by keys and text, no binding id.
                assert any(
                    keys == format_keys(action.keys) and description.startswith(action.help)
                    for keys, description in shown
                ), action.id
                continue
            assert action.id in keys_by_id, f"{action.id} missing from help"
            if not action.id[-1].isdigit():
                assert keys_by_id[action.id] == format_keys(action.keys), action.id
        assert keys_by_id["role.1"] == "alt+1 … alt+9"
        # The screen's rows are the table's, ids in the third column.
        ids = [row[2] for row in app.screen.rows]
        assert {"session.new", "role.pick", "answer.stop", "answer.copy", "app.quit"} <= set(ids)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "help closed")


# ----------------------------------------------------------------------------- keys


async def test_alt_4_with_three_roles_does_nothing(services, fake_openai) -> None:
    fake_openai.script(Reply(content="kept"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.chat_screen.roles == ["assistant", "teacher", "programmer"]
        await send(pilot, "stay here")
        session_id = app.chat_screen.session.id
        count = len(services.repository.list_sessions())
        await pilot.press("alt+4")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.chat_screen.role_name == "assistant" and app.chat_screen.session.id == session_id
        assert len(services.repository.list_sessions()) == count
        assert [str(u.render()) for u in app.query(UserMessage)] == ["stay here"]
        assert app.screen is app.screen_stack[0]
        assert notifications(app) == []
        assert app.focused is app.query_one(PromptInput)
        # Still usable: alt+3 switches.
        await pilot.press("alt+3")
        await pilot.pause()
        assert app.chat_screen.role_name == "programmer"


async def test_ctrl_pageup_and_pagedown_switch_sessions(services, fake_openai) -> None:
    fake_openai.script(Reply(content="one"), Reply(content="two"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "first session")
        first = app.chat_screen.session.id
        await pilot.press("ctrl+n")
        await pilot.pause()
        await send(pilot, "second session")
        second = app.chat_screen.session.id
        assert first != second

        def shown() -> list[str]:
            return [str(u.render()) for u in app.query(UserMessage)]

        await pilot.press("ctrl+pagedown")
        await until(pilot, lambda: app.chat_screen.session.id == first, "next session")
        assert shown() == ["first session"]
        await pilot.press("ctrl+pageup")
        await until(pilot, lambda: app.chat_screen.session.id == second, "previous session")
        assert shown() == ["second session"]
        # Both directions wrap around, like ctrl+up / ctrl+down.
        await pilot.press("ctrl+pageup")
        await until(pilot, lambda: app.chat_screen.session.id == first, "wrapped to the last")
        await pilot.press("ctrl+down")
        await until(
            pilot, lambda: app.chat_screen.session.id == second, "ctrl+down wraps to the first"
        )
        assert app.chat_screen.status.session_title == "second session"


@pytest.mark.parametrize("newline_key", ["shift+enter", "ctrl+j", "alt+enter"])
async def test_newline_keys_insert_a_line_break_and_send_nothing(
    services, fake_openai, newline_key
) -> None:
    fake_openai.script(Reply(content="ok"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        prompt = app.query_one("#prompt", PromptInput)
        prompt.focus()
        prompt.text = "one"
        prompt.move_cursor(prompt.document.end)
        await pilot.press(newline_key, "t", "w", "o", newline_key)
        prompt.insert("three")
        await pilot.pause()
        assert prompt.text == "one\ntwo\nthree"
        assert fake_openai.requests == []
        assert list(app.query(UserMessage)) == []
        assert services.repository.messages(app.chat_screen.session.id) == []
        # Enter then sends the whole multi-line text as one turn.
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert prompt.text == ""
        assert fake_openai.requests[0]["messages"][-1]["content"] == "one\ntwo\nthree"
        assert (
            services.repository.messages(app.chat_screen.session.id)[0].content == "one\ntwo\nthree"
        )
