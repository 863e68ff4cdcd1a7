"""The chat pane keeps a growing answer's end in view, unless the user scrolled up."""

from __future__ import annotations

import pytest

from chat_tui.tui.widgets.chat_view import AnswerView, ChatView, UserMessage
from tests.support.fake_openai import Reply
from tests.tui.conftest import make_app, until

SIZES = [(160, 45), (80, 24)]


def at_bottom(chat: ChatView) -> bool:
    return chat.max_scroll_y == 0 or chat.scroll_y >= chat.max_scroll_y


def streamed(chat: ChatView) -> int:
    answers = chat.query(AnswerView)
    return len(answers.last().streamed_text) if answers else 0


async def start_slow_answer(app, pilot, fake_openai, words: int = 3000) -> ChatView:  # type: ignore[no-untyped-def]
    fake_openai.script(Reply(content="word\n\n" * words, delay=0.01, chunk_chars=12))
    prompt = app.query_one("#prompt")
    prompt.focus()
    prompt.text = "stream slowly"
    await pilot.press("enter")
    chat = app.query_one("#chat", ChatView)
    # Enough to fill the pane several times over.
    await until(pilot, lambda: chat.max_scroll_y > 20, "the answer to overflow the pane")
    return chat


async def stop(app, pilot) -> None:  # type: ignore[no-untyped-def]
    """Esc: the answer is stopped (long before the server is done) and stored."""
    await pilot.press("escape")
    await until(pilot, lambda: not app.chat_screen.streaming, "the turn to end")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
async def test_pagedown_at_the_bottom_keeps_following_the_answer(
    services, fake_openai, size
) -> None:
    # Textual's anchor is released by any scroll call, even one that cannot move
    # (PageDown at the bottom); the answer then grew below the fold.
    app = make_app(services)
    async with app.run_test(size=size) as pilot:
        chat = await start_slow_answer(app, pilot, fake_openai)
        await pilot.press("pagedown")
        before = chat.max_scroll_y
        await until(pilot, lambda: chat.max_scroll_y > before + 10, "the answer to grow")
        assert at_bottom(chat), (chat.scroll_y, chat.max_scroll_y)
        await stop(app, pilot)
        assert at_bottom(chat), (chat.scroll_y, chat.max_scroll_y)


@pytest.mark.parametrize("size", SIZES)
async def test_scrolled_up_the_place_is_kept_then_end_follows_again(
    services, fake_openai, size
) -> None:
    app = make_app(services)
    async with app.run_test(size=size) as pilot:
        chat = await start_slow_answer(app, pilot, fake_openai)
        await pilot.press("pageup")
        await until(pilot, lambda: not at_bottom(chat), "the page up")
        place = chat.scroll_y
        grown = streamed(chat)
        await until(pilot, lambda: streamed(chat) > grown + 200, "more of the answer")
        assert chat.scroll_y == place  # reading: not pulled down
        await pilot.press("ctrl+end")
        await until(pilot, lambda: at_bottom(chat), "the end")
        before = chat.max_scroll_y
        await until(pilot, lambda: chat.max_scroll_y > before + 10, "the answer to grow")
        assert at_bottom(chat), (chat.scroll_y, chat.max_scroll_y)
        await stop(app, pilot)


async def test_scrolling_up_brings_in_earlier_messages_and_keeps_the_view(
    services, fake_openai
) -> None:
    from chat_tui.domain.models import Message, MessageStatus
    from chat_tui.tui.widgets.chat_view import FIRST_PAGE, PAGE_SIZE

    session = services.repository.create_session(services.settings.default_role, "long one")
    for n in range(60):
        services.repository.append_message(Message(session.id, "user", f"question {n}"))
        services.repository.append_message(
            Message(
                session.id, "assistant", f"answer {n}\n\n- a\n- b", status=MessageStatus.COMPLETE
            )
        )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.chat_screen.history_shown()
        chat = app.query_one("#chat", ChatView)
        await until(pilot, lambda: chat.hidden_count == 120 - FIRST_PAGE, "the last page")
        await pilot.pause()
        # ctrl+home: to the top of what is mounted, and the page before it comes in.
        top_before = chat.children[1]  # after the "earlier" button
        await pilot.press("ctrl+home")
        await until(pilot, lambda: chat.hidden_count == 120 - FIRST_PAGE - PAGE_SIZE, "a page")
        await pilot.pause()
        # The view stayed on what it showed: the old top message is still at the top.
        assert top_before.is_attached
        assert abs(top_before.virtual_region.y - chat.scroll_y) <= 2, (
            top_before.virtual_region.y,
            chat.scroll_y,
        )
        # Scrolling up (PageUp, as a mouse wheel does line by line) brings in the rest.
        for _ in range(40):
            if not chat.hidden_count:
                break
            await pilot.press("pageup")
            await pilot.pause()
        assert chat.hidden_count == 0
        texts = [w.message.content for w in chat.query(UserMessage)]
        assert texts == [f"question {n}" for n in range(60)]
        assert not chat.query("#earlier")
