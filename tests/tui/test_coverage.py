"""Pilot tests for app behaviour the other TUI tests leave out.

Time-outs, the live thinking block, palette and help completeness, the less common
keys, the model picker, and start-up with a damaged session file: each drives the
real App against the real local fake model server.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Collapsible, DataTable, Static

from chat_tui.config import Settings
from chat_tui.domain.models import Message, MessageStatus
from chat_tui.services.bootstrap import AppServices, open_services
from chat_tui.storage.schema import SESSIONS_DIR, session_file_name
from chat_tui.tui.app import ChatApp
from chat_tui.tui.commands import ACTIONS
from chat_tui.tui.screens.dialogs import PickerScreen
from chat_tui.tui.screens.help import HelpScreen, format_keys
from chat_tui.tui.widgets.chat_view import AnswerView, Notice, UserMessage
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.sidebar import SessionSidebar
from tests.conftest import SECRET_KEY, make_settings
from tests.support.fake_openai import Reply
from tests.tui.conftest import RecordingApp, make_app, reopen, send, until

PROVIDER_TIMEOUT = 0.5


def answers(app: ChatApp) -> list[AnswerView]:
    return list(app.query(AnswerView))


def status_text(view: AnswerView) -> str:
    return str(view.query_one(".answer-status", Static).render())


def notifications(app: RecordingApp, severity: str | None = None) -> list[str]:
    return [n.message for n in app.notices if severity is None or n.severity == severity]


def with_provider_timeout(settings: Settings, seconds: float) -> Settings:
    """The same settings with a short read time-out on the active provider."""
    provider = replace(settings.provider, timeout=seconds)
    return replace(
        settings, provider=provider, providers={**settings.providers, provider.name: provider}
    )


@pytest.fixture
def quick_timeout_services(fake_openai, isolated_home: Path) -> Iterator[AppServices]:  # type: ignore[no-untyped-def]
    settings = with_provider_timeout(
        make_settings(fake_openai.url, home=isolated_home), PROVIDER_TIMEOUT
    )
    opened = open_services(settings, context=None)
    yield opened
    opened.close()


# ----------------------------------------------------------------------------- 1. time-outs


@pytest.mark.parametrize(
    ("hold_after", "partial", "wording"),
    [(0, "", "no answer from"), (2, "abcdefgh", "stalled")],
    ids=["before-first-token", "mid-answer"],
)
async def test_provider_timeout_is_one_readable_line_and_the_app_stays_usable(
    quick_timeout_services, fake_openai, hold_after, partial, wording
) -> None:
    services = quick_timeout_services
    gate = threading.Event()  # never set while the client waits: the server goes silent
    fake_openai.script(
        Reply(content="abcdefghijklmnop", chunk_chars=4, hold=gate, hold_after=hold_after)
    )
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await send(pilot, "are you there?")
            assert not app.chat_screen.streaming
            answer = services.repository.messages(app.chat_screen.session.id)[-1]
            assert answer.role == "assistant" and answer.status is MessageStatus.FAILED
            error = answer.error or ""
            assert wording in error.lower() and "timeout" in error.lower()
            assert f"{PROVIDER_TIMEOUT:g} s" in error
            assert "\n" not in error and "Traceback" not in error and SECRET_KEY not in error
            assert answer.content == partial
            (view,) = answers(app)
            # The failed answer is marked in the pane, with the one-line error.
            assert status_text(view) == f"✗ {error}  (ctrl+g retries)"
            assert view.streamed_text == partial
            assert view.query_one(".answer-body").display is bool(partial)
            pane = " ".join(str(w.render()) for w in app.query(Notice)) + status_text(view)
            assert "Traceback" not in pane
            assert not re.search(r"\b[A-Z]\w*(Error|Exception)\b", pane), pane  # no class names
            assert error in notifications(app, "error")
            assert not any("Unexpected error" in n for n in notifications(app))
            # The next message works.
            fake_openai.script(Reply(content="back again"))
            await send(pilot, "retry please")
            stored = services.repository.messages(app.chat_screen.session.id)
            assert [m.content for m in stored] == [
                "are you there?",
                partial,
                "retry please",
                "back again",
            ]
            assert stored[-1].status is MessageStatus.COMPLETE
            assert status_text(answers(app)[-1]).startswith("fake-model")
    finally:
        gate.set()


# ----------------------------------------------------------------------------- 2. thinking


async def test_thinking_block_is_open_while_reasoning_streams_and_folds_at_first_content(
    services, fake_openai
) -> None:
    reasoning = "Let me think about this carefully, step by step."
    content = "word " * 60
    gate = threading.Event()
    # Chunks of 8: the server pauses after two reasoning deltas, then paces the rest so the
    # stream is still open well after the first content delta.
    fake_openai.script(
        Reply(
            reasoning=reasoning, content=content, chunk_chars=8, hold=gate, hold_after=2, delay=0.05
        )
    )
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            prompt = app.query_one("#prompt", PromptInput)
            prompt.text = "think first"
            await pilot.press("enter")
            # The block and its text are composed a frame apart: wait for the text itself.
            await until(
                pilot, lambda: bool(app.query(".thinking .reasoning-text")), "thinking text"
            )
            thinking = app.query_one(".thinking", Collapsible)
            reasoning_text = thinking.query_one(".reasoning-text", Static)
            await until(
                pilot, lambda: str(reasoning_text.render()) == reasoning[:16], "first reasoning"
            )
            assert thinking.collapsed is False
            assert thinking.title == "Thinking…"
            assert answers(app)[0].streamed_text == ""
            gate.set()
            await until(pilot, lambda: thinking.collapsed, "thinking folded")
            # Folded while the answer is still arriving, not only at the end.
            assert app.chat_screen.streaming
            assert fake_openai.completed_streams == 0
            assert thinking.title == "Thinking"
            view = answers(app)[0]
            await until(pilot, lambda: view.streamed_text != "", "first content shown")
            assert content.startswith(view.streamed_text) and view.streamed_text != content
            await pilot.press("escape")
            await app.workers.wait_for_complete()
            await pilot.pause()
            stored = services.repository.messages(app.chat_screen.session.id)[-1]
            assert stored.status is MessageStatus.STOPPED
            assert stored.reasoning == reasoning
            assert thinking.collapsed is True
    finally:
        gate.set()


# ----------------------------------------------------------------------------- 3. palette, help


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
    return str(listed.get_option_at_index(0).hit.text)  # type: ignore[attr-defined]


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


# ----------------------------------------------------------------------------- 4. keys


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


# ----------------------------------------------------------------------------- 6. model picker


async def test_model_picker_lists_server_models_and_the_choice_is_used(
    services, fake_openai
) -> None:
    fake_openai.models = ["fake-model", "fake-model-2", "big-model"]
    fake_openai.script(Reply(content="from the new model"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert "fake-model (openai)" in app.chat_screen.status.model
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, PickerScreen), "model picker")
        options = app.screen.query_one("#picker-options")
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert sorted(ids) == ["big-model", "fake-model", "fake-model-2"]
        assert options.highlighted_option.id == "fake-model"  # the current one
        assert fake_openai.model_list_requests == 1
        await pilot.press("-", "2", "enter")
        await until(pilot, lambda: not isinstance(app.screen, PickerScreen), "picker closed")
        await until(
            pilot, lambda: services.chat.settings.provider.model == "fake-model-2", "model chosen"
        )
        assert app.chat_screen.status.model == "fake-model-2 (openai)"
        await send(pilot, "which model?")
        assert fake_openai.requests[-1]["model"] == "fake-model-2"
        stored = services.repository.messages(app.chat_screen.session.id)[-1]
        assert stored.model == "fake-model-2" and stored.content == "from the new model"
        assert status_text(answers(app)[-1]).startswith("fake-model-2")


# ----------------------------------------------------------------------------- 7. damaged file


GARBAGE = b"\x00\xff\xfe{not json at all \x9c\x00"


async def test_corrupt_session_file_at_start_is_moved_aside_and_the_rest_loads(
    fake_openai, isolated_home: Path
) -> None:
    first = reopen(fake_openai, isolated_home)
    repository = first.repository
    kept = repository.create_session("assistant", title="Kept chat")
    repository.append_message(Message(session_id=kept.id, role="user", content="kept question"))
    repository.append_message(Message(session_id=kept.id, role="assistant", content="kept answer"))
    damaged = repository.create_session("assistant", title="Damaged chat")
    repository.append_message(Message(session_id=damaged.id, role="user", content="lost question"))
    history_dir = first.settings.history_dir
    first.close()

    damaged_path = history_dir / SESSIONS_DIR / session_file_name(damaged.id)
    assert damaged_path.is_file()
    damaged_path.write_bytes(GARBAGE)

    second = reopen(fake_openai, isolated_home)
    app = make_app(second, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await app.chat_screen.history_shown()
            await pilot.pause()
            moved = sorted((history_dir / SESSIONS_DIR).glob(f"{damaged_path.name}.corrupt-*"))
            assert len(moved) == 1
            assert moved[0].read_bytes() == GARBAGE  # kept as it was, not deleted
            # The notice names the moved-aside file, in the pane and as a toast.
            pane = [str(n.render()) for n in app.query(Notice)]
            assert any(moved[0].name in text for text in pane), pane
            assert any(moved[0].name in text for text in notifications(app, "warning"))
            # The other session is there with its messages.
            sidebar = app.query_one(SessionSidebar)
            assert sidebar.get_option(kept.id) is not None
            assert second.repository.get_session(kept.id) is not None
            assert [m.content for m in second.repository.messages(kept.id)] == [
                "kept question",
                "kept answer",
            ]
            if app.chat_screen.session.id != kept.id:
                await app.chat_screen.open_session(second.repository.get_session(kept.id))
                await pilot.pause()
            assert [str(u.render()) for u in app.query(UserMessage)] == ["kept question"]
            # And the app works: a new message in that session is answered and stored.
            fake_openai.script(Reply(content="still fine"))
            await send(pilot, "after the damage")
            assert second.repository.messages(kept.id)[-1].content == "still fine"
    finally:
        second.close()
