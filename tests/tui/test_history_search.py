"""ctrl+f: search every session of every role; Enter opens the session at the message."""

from __future__ import annotations

from chat_tui.domain.models import Message, Session
from chat_tui.services.history_search import SearchHit, Snippet
from chat_tui.tui.screens.history_search import MATCH_STYLE, HistorySearchScreen, hit_content
from chat_tui.tui.widgets.chat_view import ChatView, UserMessage
from chat_tui.tui.widgets.message_cursor import SELECTED
from tests.support.history import import_sessions
from tests.tui.conftest import make_app, until


def _seed(services) -> tuple[Session, Message]:  # type: ignore[no-untyped-def]
    """A long programmer session holding the needle early on, and a newer assistant one."""
    history = services.settings.history_dir
    old = Session(role="programmer", title="Parsing notes", created_at=1000.0, updated_at=1000.0)
    messages = [
        Message(
            old.id, "user" if n % 2 == 0 else "assistant", f"filler turn {n}", created_at=1000.0 + n
        )
        for n in range(60)
    ]
    needle = Message(old.id, "user", "How do I parse the Zürich café menu?", created_at=1003.5)
    messages.insert(4, needle)
    recent = Session(role="assistant", title="Recent chat", created_at=5000.0, updated_at=5000.0)
    import_sessions(history, [(old, messages), (recent, [Message(recent.id, "user", "hello")])])
    services.repository.refresh()
    return old, needle


async def test_ctrl_f_finds_another_roles_message_and_opens_it_in_view(services) -> None:  # type: ignore[no-untyped-def]
    old, needle = _seed(services)
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.chat_screen.role_name == "assistant", "recent session")
        await pilot.press("ctrl+f")  # from the prompt, which has the focus
        await until(pilot, lambda: isinstance(app.screen, HistorySearchScreen), "search screen")
        screen = app.screen
        assert isinstance(screen, HistorySearchScreen)
        await pilot.press(*"zurich CAFE")
        await until(
            pilot,
            lambda: screen.results is not None and screen.results.query == "zurich CAFE",
            "results for the query",
        )
        assert screen.results is not None
        (hit,) = screen.results.hits
        assert (hit.session_id, hit.message_id, hit.role) == (old.id, needle.id, "programmer")
        await pilot.press("enter")
        chat = app.chat_screen
        await until(pilot, lambda: chat.is_active and chat.session.id == old.id, "session open")
        assert chat.role_name == "programmer"
        view = chat.query_one(ChatView)

        def needle_widget() -> UserMessage | None:
            found = [w for w in view.query(UserMessage) if w.message.id == needle.id]
            return found[0] if found else None

        await until(pilot, lambda: needle_widget() is not None, "the needle mounted")
        widget = needle_widget()
        assert widget is not None and widget.has_class(SELECTED)
        assert chat.focused is view

        def in_view() -> bool:
            top = widget.virtual_region.y
            return view.scroll_y <= top < view.scroll_y + view.size.height

        await until(pilot, in_view, "the needle scrolled into view")
        # And it stays there once the earlier pages have their heights (it was pulled
        # back to the end once: the place was let go before the scroll to it happened).
        await pilot.pause(0.5)
        assert in_view()


async def test_escape_closes_and_a_miss_says_so(services) -> None:  # type: ignore[no-untyped-def]
    _seed(services)
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, HistorySearchScreen), "search screen")
        screen = app.screen
        assert isinstance(screen, HistorySearchScreen)
        await pilot.press(*"quokka")
        await until(pilot, lambda: screen.results is not None, "results")
        assert screen.results is not None and screen.results.hits == []
        assert "no matches" in str(screen.status.render())
        await pilot.press("escape")
        await until(pilot, lambda: app.chat_screen.is_active, "back to the chat")
        assert app.chat_screen.session is not None
        assert app.chat_screen.session.role == "assistant"


def test_matches_are_styled_not_marked_up() -> None:
    hit = SearchHit(
        session_id="s",
        session_title="[bold]title[/bold]",
        role="coder",
        message_id="m",
        speaker="user",
        created_at=0.0,
        snippet=Snippet("see [red]x[/red] here", ((4, 16),)),
    )
    content = hit_content(hit)
    assert "[bold]title[/bold]" in content.plain and "[red]x[/red]" in content.plain
    styled = [content.plain[s.start : s.end] for s in content.spans if s.style == MATCH_STYLE]
    assert styled == ["[red]x[/red]"]


async def test_a_hit_on_an_older_version_opens_the_branch_it_is_on(services) -> None:  # type: ignore[no-untyped-def]
    """An edited question keeps its first wording one switch away; searching that wording
    opens the session with that branch shown, not the newer one without the message."""
    repo = services.repository
    session = repo.create_session("assistant", title="Edited")
    first = Message(session.id, "user", "the original walrus question")
    repo.append_message(first)
    repo.append_message(Message(session.id, "assistant", "old answer", parent_id=first.id))
    edited = Message(session.id, "user", "the reworded question", parent_id="")
    repo.append_message(edited)
    repo.append_message(Message(session.id, "assistant", "new answer", parent_id=edited.id))
    shown = repo.get_session(session.id)
    assert shown is not None and shown.current_leaf != first.id
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.chat_screen
        await until(pilot, lambda: chat.session is not None, "a session open")
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, HistorySearchScreen), "search screen")
        screen = app.screen
        assert isinstance(screen, HistorySearchScreen)
        await pilot.press(*"walrus")
        await until(
            pilot,
            lambda: screen.results is not None and len(screen.results.hits) == 1,
            "the old wording found",
        )
        await pilot.press("enter")
        view = chat.query_one(ChatView)
        await until(
            pilot,
            lambda: any(w.message.id == first.id for w in view.query(UserMessage)),
            "the older branch shown",
        )
        assert not any(w.message.id == edited.id for w in view.query(UserMessage))
        stored = repo.get_session(session.id)
        assert stored is not None and stored.current_leaf is not None
        assert stored.current_leaf != shown.current_leaf  # the choice is kept
