"""Opening a long session mounts its last page only; earlier pages wait for a scroll."""

from __future__ import annotations

from chat_tui.domain.models import Message, MessageStatus
from chat_tui.services.bootstrap import AppServices
from chat_tui.tui.widgets.chat_view import FIRST_PAGE, PAGE_SIZE, AnswerView, ChatView, UserMessage
from tests.tui.conftest import make_app, until


def long_session(services: AppServices, turns: int, answer: str, title: str = "long one") -> str:
    session = services.repository.create_session(services.settings.default_role, title)
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


def answers_in_view_have_text(chat: ChatView) -> bool:
    """Every answer in view has its Markdown blocks (its text is laid out). The rest of
    the page, mounted above the view after the first frame, may still be parsing."""
    top, bottom = chat.scroll_y, chat.scroll_y + chat.size.height
    return all(
        view.markdown.children
        for view in chat.query_children(AnswerView)
        if view.message is not None
        and view.message.content
        and view.virtual_region.bottom > top
        and view.virtual_region.y < bottom
    )


async def test_opening_a_session_swaps_the_pane_in_one_frame(services) -> None:  # type: ignore[no-untyped-def]
    # Every layout while a session opens shows either the session left, as it was, or
    # the one opened with its answers' text, its highlight in the sidebar, its title on
    # the status line and no gauge counted for the other one. Removing the old messages,
    # mounting the new ones and their Markdown parsing each gave the screen a frame in
    # between: an empty pane, then answers without text, then the old highlight.
    short_id = long_session(services, 5, "short {n}", title="short one")
    long_id = long_session(services, 60, "answer {n}\n\n```python\nprint({n})\n```")
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.chat_screen
        await screen.history_shown()
        chat, sidebar, status = screen.chat_view, screen.sidebar, screen.status
        await screen.open_session(services.repository.get_session(short_id))
        await until(pilot, lambda: not chat.opening, "the short session")
        await until(
            pilot, lambda: sidebar.highlighted == sidebar.get_option_index(short_id), "sidebar"
        )
        await until(pilot, lambda: bool(status.context), "the short session's gauge")
        left = mounted(chat)
        left_gauge = status.context
        newest = "answer 59\n\n```python\nprint(59)\n```"
        frames: list[tuple[list[str], bool, int | None, str, str]] = []

        def laid_out(_screen: object) -> None:
            frames.append(
                (
                    mounted(chat),
                    answers_in_view_have_text(chat),
                    sidebar.highlighted,
                    status.session_title,
                    status.context,
                )
            )

        screen.screen_layout_refresh_signal.subscribe(app, laid_out, immediate=True)
        try:
            await screen.open_session(services.repository.get_session(long_id))
            await until(pilot, lambda: not chat.opening, "the rest of the page")
            await until(pilot, lambda: status.context not in ("", left_gauge), "its gauge")
            await pilot.pause()
        finally:
            screen.screen_layout_refresh_signal.unsubscribe(app)
        opened_index = sidebar.get_option_index(long_id)
        opened_gauge = status.context
        shown_frames = [f for f in frames if f[0] != left]
        assert shown_frames, "no layout showed the session opened"
        for shown, has_text, highlighted, title, gauge in shown_frames:
            assert shown and shown[-1] == newest, shown[-3:]
            assert has_text
            assert highlighted == opened_index
            assert title == "long one"
            assert gauge in ("", opened_gauge), gauge
        # No frame went back to the session left once the opened one was shown.
        first = frames.index(shown_frames[0])
        assert all(f[0] != left for f in frames[first:])


async def test_scrolled_up_while_the_page_comes_in_the_place_is_held(services) -> None:  # type: ignore[no-untyped-def]
    # The rest of the page mounts above what is shown, a screen per step after the first
    # frame. A step that began at the end did not hold the place: a PageUp pressed while
    # it mounted was then pushed down the pane by the heights of the messages above.
    long_session(services, 5, "short {n}", title="short one")
    answer = "answer {n}\n\n" + "".join(f"- point {k} of {{n}}\n" for k in range(12))
    long_id = long_session(services, 60, answer)
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.chat_screen
        await screen.history_shown()
        chat = screen.chat_view
        await until(pilot, lambda: not chat.opening, "the first session")
        await screen.open_session(services.repository.get_session(long_id))
        # The first frame: the last screen is laid out; the page's first step above it is
        # queued to this pane and starts before this test goes on.
        await chat.wait_for_refresh()
        assert chat.opening and chat.scroll_y == chat.max_scroll_y > 0
        shown = len(mounted(chat))
        screen.action_scroll_chat("page_up")  # what PageUp does
        held = next(
            w
            for w in chat.children
            if isinstance(w, UserMessage | AnswerView) and w.virtual_region.bottom > chat.scroll_y
        )
        offset = held.virtual_region.y - chat.scroll_y
        await until(pilot, lambda: not chat.opening, "the rest of the page")
        await pilot.pause()
        assert len(mounted(chat)) == 120 - chat.hidden_count > shown  # the page came in
        assert held.is_attached
        assert held.virtual_region.y - chat.scroll_y == offset
        assert chat.scroll_y < chat.max_scroll_y  # not pulled back to the end


async def test_every_message_of_a_long_session_is_reached_by_scrolling_up(services) -> None:  # type: ignore[no-untyped-def]
    session_id = long_session(services, 100, "answer {n}\n\n```python\nprint({n})\n```")
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.chat_screen
        await screen.history_shown()
        chat = screen.chat_view
        await until(pilot, lambda: not chat.opening, "the page to be laid out")
        for _ in range(200 // PAGE_SIZE + 2):  # a page per ctrl+home, and a spare
            if not chat.hidden_count:
                break
            hidden = chat.hidden_count
            await pilot.press("ctrl+home")
            await until(pilot, lambda: chat.hidden_count < hidden, "the page before")
        await pilot.pause()
        assert chat.hidden_count == 0
        stored = [m.content for m in services.repository.messages(session_id)]
        assert mounted(chat) == stored
        assert not chat.query("#earlier")
