"""Keys, small terminals, dialogs and remembered choices, through the real App.

The byte-level view (what a terminal sends) is tests/e2e/test_tmux.py; this file
checks the App's side: one ACTIONS table behind README, help and palette; the prompt
history; the sidebar and status line at 80 columns; confirm dialogs that do what
their hint says; and the state file that keeps theme, provider and model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Static

from chat_tui.state import load_state, state_path
from chat_tui.tui.app import ChatApp
from chat_tui.tui.commands import ESC_DIGIT_CHARACTERS, ESC_DIGIT_KEYS, readme_table
from chat_tui.tui.screens.dialogs import ConfirmScreen
from chat_tui.tui.screens.help import HelpScreen
from chat_tui.tui.widgets.chat_view import UserMessage
from chat_tui.tui.widgets.prompt import PromptHistory, PromptInput
from tests.support.fake_openai import Reply
from tests.tui.conftest import make_app, notifications, reopen, send, until

ROOT = Path(__file__).resolve().parents[2]


def test_readme_key_table_is_the_one_generated_from_actions() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme_table()
    assert table in readme, (
        "README.md's key table differs from ACTIONS; paste the output of\n"
        '  python -c "from chat_tui.tui.commands import readme_table; print(readme_table())"'
    )
    assert readme.count("| key | action | binding id |") == 1


def test_esc_digit_characters_are_bound_by_their_key_names() -> None:
    # The names Textual gives the characters it maps ESC 1..9 to (see commands.py).
    assert ESC_DIGIT_KEYS[1] == "inverted_exclamation_mark"
    assert ESC_DIGIT_KEYS[2] == "trade_mark_sign"
    assert ESC_DIGIT_KEYS[9] == "ª"
    assert len(ESC_DIGIT_CHARACTERS) == 9


def test_prompt_history_walks_back_and_returns_to_the_draft() -> None:
    history = PromptHistory(["one", "two"])
    assert history.newer() is None  # not walking yet
    assert history.older("draft") == "two"
    assert history.older("two") == "one"
    assert history.older("one") is None  # the oldest stays
    assert history.newer() == "two"
    assert history.newer() == "draft"
    assert history.newer() is None
    history.add("one")
    assert history.entries == ["two", "one"]
    assert PromptHistory().older("x") is None


async def test_up_recalls_sent_prompts_also_after_a_restart(
    services, fake_openai, isolated_home
) -> None:
    fake_openai.script(Reply(content="a"), Reply(content="b"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "first question")
        await send(pilot, "second\nquestion")
        prompt = app.query_one(PromptInput)
        await pilot.press("up")
        assert prompt.text == "second\nquestion"
        await pilot.press("up")
        assert prompt.text == "first question"
        await pilot.press("down")
        assert prompt.text == "second\nquestion"
        await pilot.press("down")
        assert prompt.text == ""
        await until(
            pilot,
            lambda: (
                load_state(state_path(services.settings.data_dir))[0].prompt_history
                == ("first question", "second\nquestion")
            ),
            "history saved",
        )
        assert len(fake_openai.requests) == 2
    again = reopen(fake_openai, isolated_home)
    try:
        app = make_app(again, check_setup=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("up")
            assert app.query_one(PromptInput).text == "second\nquestion"
        await again.chat.aclose()
    finally:
        again.close()


async def test_at_80x24_the_sidebar_hides_and_the_chat_keeps_60_columns(
    services, fake_openai
) -> None:
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.chat_screen.sidebar.display
        assert app.chat_screen.chat_view.size.width >= 60
        status = str(app.chat_screen.status.render())
        assert " assistant " in status and "KB" in status
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.chat_screen.sidebar.display
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not app.chat_screen.sidebar.display and app.chat_screen.chat_view.size.width >= 60
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        assert app.chat_screen.sidebar.display
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not app.chat_screen.sidebar.display


async def test_help_at_80x24_shows_keys_and_actions_in_full(services, fake_openai) -> None:
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert len(table.columns) == 2  # the binding ids are in the README and palette
        assert table.size.width <= 80
        total = sum(column.get_render_width(table) for column in table.columns.values())
        assert total <= table.size.width, "help columns are cut at 80 columns"


async def confirm_dialog(app: ChatApp, pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirm dialog")
    await pilot.pause()


async def test_confirm_dialog_shows_its_keys_and_enter_presses_the_focused_button(
    services, fake_openai
) -> None:
    fake_openai.script(Reply(content="answer"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "keep me")
        session_id = app.chat_screen.session.id
        await confirm_dialog(app, pilot, "ctrl+l")
        hint = str(app.screen.query_one("#confirm-hint", Static).render())
        assert hint == "y Clear   n / Esc Cancel   Enter presses Cancel"
        assert app.screen.focused is app.screen.query_one("#no", Button)
        await pilot.press("enter")  # Cancel has the focus: nothing is cleared
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "closed")
        assert len(services.repository.messages(session_id)) == 2
        # right moves to the confirm button; the hint follows; Enter confirms.
        await confirm_dialog(app, pilot, "ctrl+l")
        await pilot.press("right")
        await pilot.pause()
        hint = str(app.screen.query_one("#confirm-hint", Static).render())
        assert hint.endswith("Enter presses Clear")
        await pilot.press("enter")
        await until(pilot, lambda: not services.repository.messages(session_id), "cleared")
        assert list(app.query(UserMessage)) == []
        # n cancels and y confirms wherever the focus is.
        await send(pilot, "again")
        await confirm_dialog(app, pilot, "ctrl+d")
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "closed")
        assert services.repository.get_session(session_id) is not None
        await confirm_dialog(app, pilot, "ctrl+d")
        await pilot.press("y")
        await until(pilot, lambda: services.repository.get_session(session_id) is None, "deleted")


async def test_theme_model_and_provider_are_remembered_not_written_to_config(
    services, fake_openai, isolated_home
) -> None:
    config_file = services.settings.config_file
    config_before = config_file.read_bytes()
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.theme = "nord"
        app.services.chat.use_model("fake-model-2")
        app.state_keeper.model_chosen("fake-model-2")
        path = state_path(services.settings.data_dir)
        await until(
            pilot,
            lambda: (
                (s := load_state(path)[0]).theme is not None
                and s.theme.value == "nord"
                and "openai" in s.models
            ),
            "state saved",
        )
    assert config_file.read_bytes() == config_before
    again = reopen(fake_openai, isolated_home)
    try:
        app = make_app(again, check_setup=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert app.theme == "nord"
            assert again.chat.settings.provider.model == "fake-model-2"
            await send(pilot, "which model?")
            assert fake_openai.requests[-1]["model"] == "fake-model-2"
        await again.chat.aclose()
    finally:
        again.close()
    # A changed configuration wins over the old pick (the pick's baseline no longer
    # matches); config.toml itself was never touched by the app.
    assert config_file.read_bytes() == config_before
    third = reopen(fake_openai, isolated_home, CHAT_TUI_MODEL="configured-model")
    try:
        app = make_app(third, check_setup=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert third.chat.settings.provider.model == "configured-model"
            assert app.theme == "nord"
        await third.chat.aclose()
    finally:
        third.close()


async def test_a_corrupt_state_file_is_a_notice_and_the_app_starts(services, fake_openai) -> None:
    path = state_path(services.settings.data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00{garbage")
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        messages = notifications(app, "warning")
        assert any("damaged" in m and str(path) in m for m in messages), messages
        assert app.focused is app.query_one(PromptInput)


async def test_sources_are_short_and_p_shows_the_full_paths(services, fake_openai) -> None:
    from chat_tui.domain.models import Citation, Message
    from chat_tui.tui.widgets.chat_view import AnswerView

    repo = services.repository
    session = repo.create_session("assistant", "Sourced")
    repo.append_message(Message(session_id=session.id, role="user", content="q"))
    long_dir = "/srv/company-docs/engineering/handbook-2026"
    repo.append_message(
        Message(
            session_id=session.id,
            role="assistant",
            content="answer",
            citations=(
                Citation(source=f"{long_dir}/ops/on-call.md", line_start=3, line_end=9),
                Citation(source=f"{long_dir}/runbook.pdf", page=4),
            ),
        )
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.chat_screen.history_shown()
        await pilot.pause()
        sources = app.query(AnswerView).last().query_one(".sources", Static)
        text = str(sources.render())
        assert f"Sources  in {long_dir}" in text
        assert "[1] ops/on-call.md (lines 3-9)" in text and "[2] runbook.pdf (page 4)" in text
        await pilot.press("ctrl+o", "p")
        await pilot.pause()
        text = str(sources.render())
        assert f"[1] {long_dir}/ops/on-call.md (lines 3-9)" in text
        await pilot.press("p")
        await pilot.pause()
        assert "[2] runbook.pdf (page 4)" in str(sources.render())


@pytest.mark.parametrize("size", [(80, 24), (72, 24), (100, 30), (160, 45)])
async def test_a_user_message_is_drawn_whole_at_any_width(services, fake_openai, size) -> None:
    # At 80x24 this message is one cell too wide for one line of its bubble (the left
    # bar takes a column): the pane's stream layout laid it out one line high and its
    # last word was not drawn.
    from chat_tui.domain.models import Message

    text = "When does the on-call rotation change, and who gets paged first?"
    session = services.repository.create_session(services.settings.default_role, "t")
    services.repository.append_message(Message(session.id, "user", text))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=size) as pilot:
        await app.chat_screen.history_shown()
        await pilot.pause()
        bubble = app.query_one(UserMessage)
        room = bubble.content_region.width
        assert bubble.content_region.height >= -(-len(text) // room), (bubble.region, room)
        drawn = "".join(
            strip.text for strip in bubble.render_lines(bubble.content_region.reset_offset)
        )
        assert "first?" in drawn
