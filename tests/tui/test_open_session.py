"""Opening a long session mounts its last page only; earlier pages wait for a scroll."""

from __future__ import annotations

from chat_tui.domain.models import Message, MessageStatus
from chat_tui.services.bootstrap import AppServices
from chat_tui.tui.widgets.chat_view import FIRST_PAGE, PAGE_SIZE, AnswerView, ChatView, UserMessage
from tests.tui.conftest import make_app, until


def long_session(services: AppServices, turns: int, answer: str) -> str:
    session = services.repository.create_session(services.settings.default_role, "long one")
    for n in range(turns):
        services.repository.append_message(Message(session.id, "user", f"question {n}"))
        services.repository.append_message(
            Message(session.id, "assistant", answer.format(n=n), status=MessageStatus.COMPLETE)
        )
    return session.id


async def test_opening_a_long_session_does_not_load_the_page_before_it(services) -> None:  # type: ignore[no-untyped-def]
    # The pane is at the top (0) from replacing its children until the new page is laid
    # out: that moment brought in the page before it on every open, mounting 30 more
    # messages (as long again as the open itself).
    long_session(services, 60, "answer {n}\n\n- a\n- b\n\n```python\nprint({n})\n```")
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.chat_screen.history_shown()
        chat = app.query_one("#chat", ChatView)
        first_page = 120 - chat.hidden_count
        assert 2 <= first_page <= FIRST_PAGE
        await until(pilot, lambda: not chat.opening, "the page to be laid out")
        await pilot.pause()
        assert chat.hidden_count == 120 - first_page
        assert chat.scroll_y == chat.max_scroll_y > 0  # at the end, the newest message
        # Scrolling to the top still brings the page before it in.
        await pilot.press("ctrl+home")
        await until(pilot, lambda: chat.hidden_count == 120 - first_page - PAGE_SIZE, "a page")


async def test_a_last_page_too_short_to_scroll_brings_in_the_one_before(services) -> None:  # type: ignore[no-untyped-def]
    long_session(services, 60, "a{n}")
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await app.chat_screen.history_shown()
        chat = app.query_one("#chat", ChatView)
        # 14 two-line messages do not fill the pane: the page before comes in, once.
        await until(
            pilot, lambda: chat.hidden_count == 120 - FIRST_PAGE - PAGE_SIZE, "the page before"
        )
        await until(pilot, lambda: not chat.opening, "the page to be laid out")
        await pilot.pause()
        assert chat.max_scroll_y > 0


def test_the_first_page_is_cut_by_estimated_height_not_only_by_count() -> None:
    from chat_tui.tui.widgets.paging import SCREENS_AHEAD, estimated_rows, first_page_size

    short = [Message("s", "user", f"q{n}") for n in range(40)]
    assert first_page_size(short, 80, 20, FIRST_PAGE) == FIRST_PAGE  # 14 x 3 rows < 60
    long_answer = Message("s", "assistant", ("word " * 40 + "\n\n") * 30)  # 122 rows at 80
    assert estimated_rows(long_answer, 80) > SCREENS_AHEAD * 20
    assert first_page_size([*short, long_answer], 80, 20, FIRST_PAGE) == 1
    assert first_page_size([*short, long_answer], 80, 50, FIRST_PAGE) > 1  # 122 rows < 150
    # A pane not laid out yet (no size): the fixed count.
    assert first_page_size([*short, long_answer], 0, 0, FIRST_PAGE) == FIRST_PAGE
    assert first_page_size(short[:3], 0, 0, FIRST_PAGE) == 3


async def test_a_session_of_long_answers_mounts_only_what_fills_the_pane(services) -> None:  # type: ignore[no-untyped-def]
    # 14 answers of ~3,000 characters mounted hundreds of Markdown blocks to show two.
    paragraph = "Some words of an answer. " * 12 + "\n\n"
    long_session(services, 20, "## Answer {n}\n\n" + paragraph * 10)
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.chat_screen.history_shown()
        chat = app.query_one("#chat", ChatView)
        await until(pilot, lambda: not chat.opening, "the page to be laid out")
        await pilot.pause()
        shown = 40 - chat.hidden_count
        assert 2 <= shown < FIRST_PAGE
        # The page still fills the pane (several times): the newest message at the end.
        assert chat.max_scroll_y > chat.size.height
        assert chat.scroll_y == chat.max_scroll_y
        await pilot.press("ctrl+home")
        await until(pilot, lambda: 40 - chat.hidden_count > shown, "the page before")


def test_the_first_paint_takes_about_one_screen_of_the_page() -> None:
    from chat_tui.tui.widgets.paging import FIRST_PAINT_SCREENS, first_paint_size

    short = [Message("s", "user", f"q{n}") for n in range(40)]  # 3 rows each
    assert first_paint_size(
        short,
        80,
        20,
    ) == -(-int(FIRST_PAINT_SCREENS * 20) // 3)
    long_answer = Message("s", "assistant", ("word " * 40 + "\n\n") * 30)
    assert first_paint_size([*short, long_answer], 80, 20) == 1
    assert first_paint_size(short[:3], 0, 0) == 3  # no size known yet: all of them


def mounted(chat: ChatView) -> list[str]:
    return [
        w.message.content
        for w in chat.children
        if isinstance(w, UserMessage | AnswerView) and w.message is not None
    ]


async def test_opening_paints_the_last_screen_first_and_the_page_follows_above(  # type: ignore[no-untyped-def]
    services,
) -> None:
    # The page is three screens; mounting all of it before the first paint made a long
    # session open only as fast as three screens of Markdown mount.
    first_id = long_session(services, 5, "short {n}")
    long_id = long_session(services, 60, "answer {n}\n\n- a\n- b\n\n```python\nprint({n})\n```")
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.chat_screen
        await screen.history_shown()
        chat = screen.chat_view
        await until(pilot, lambda: not chat.opening, "the page to be laid out")
        first = services.repository.get_session(first_id)
        await screen.open_session(first)
        await until(pilot, lambda: not chat.opening, "the short session")
        await screen.open_session(services.repository.get_session(long_id))
        page = 120 - chat.hidden_count
        shown = mounted(chat)
        # Right after the open: the newest messages, fewer than the page, end in view.
        assert 2 <= len(shown) < page
        assert shown[-1] == "answer 59\n\n- a\n- b\n\n```python\nprint(59)\n```"
        await until(pilot, lambda: not chat.opening, "the rest of the page")
        await pilot.pause()
        everything = mounted(chat)
        assert len(everything) == page and everything[-len(shown) :] == shown
        assert chat.hidden_count == 120 - page  # and no page before it came in
        assert chat.scroll_y == chat.max_scroll_y  # still at the end
        assert chat.query("#earlier")


async def test_a_message_not_mounted_yet_is_found_by_reveal(services) -> None:  # type: ignore[no-untyped-def]
    # ctrl+f opens the session and reveals the hit at once: a message of the page that
    # has not come in yet is mounted for it.
    long_session(services, 60, "answer {n}\n\n```python\nprint({n})\n```")
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.chat_screen
        await screen.history_shown()
        chat = screen.chat_view
        await until(pilot, lambda: not chat.opening, "the page to be laid out")
        session = screen.session
        assert session is not None
        await screen.open_session(session)
        page = 120 - chat.hidden_count
        oldest_of_page = services.repository.messages(session.id)[120 - page]
        assert oldest_of_page.content not in mounted(chat)
        widget = await chat.reveal_message(oldest_of_page.id)
        assert widget is not None and widget.is_attached
        assert len(mounted(chat)) == page
