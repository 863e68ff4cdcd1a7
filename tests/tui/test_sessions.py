"""Pilot tests of sessions and roles: new, rename, delete, switch, clear, role bindings."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from chat_tui.services.bootstrap import open_services
from chat_tui.tui.screens.dialogs import ConfirmScreen, PickerScreen, TextPromptScreen
from chat_tui.tui.screens.help import HelpScreen
from chat_tui.tui.widgets.chat_view import UserMessage
from chat_tui.tui.widgets.prompt import PromptInput
from tests.conftest import SECRET_KEY, make_settings
from tests.support.fake_openai import Reply
from tests.support.history import import_sessions
from tests.tui.conftest import make_app, reopen, send, until


def user_texts(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(u.render()) for u in app.query(UserMessage)]


async def test_switching_role_by_binding_shows_that_roles_own_sessions(
    services, fake_openai
) -> None:
    fake_openai.script(Reply(content="a1"), Reply(content="p1"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.chat_screen.role_name == "assistant"
        await send(pilot, "assistant question")
        await pilot.press("alt+3")
        await pilot.pause()
        assert app.chat_screen.role_name == "programmer"
        assert app.chat_screen.session.role == "programmer"
        assert user_texts(app) == []
        await send(pilot, "programmer question")
        assert fake_openai.requests[1]["messages"][0]["content"].startswith(
            "You are an expert programmer"
        )
        await pilot.press("alt+1")
        await pilot.pause()
        assert app.chat_screen.role_name == "assistant"
        assert user_texts(app) == ["assistant question"]
        roles = {s.role for s in services.repository.list_sessions()}
        assert roles == {"assistant", "programmer"}
        assert [s.title for s in services.repository.list_sessions("programmer")] == [
            "programmer question"
        ]


async def test_role_picker_switches_role(services, fake_openai) -> None:
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, PickerScreen), "role picker")
        await pilot.press(*"teach")
        await pilot.press("enter")
        await until(pilot, lambda: app.chat_screen.role_name == "teacher", "teacher role")
        assert app.chat_screen.session.role == "teacher"


async def test_new_switch_rename_delete_and_clear(services, fake_openai) -> None:
    fake_openai.script(Reply(content="one"), Reply(content="two"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "first session")
        first = app.chat_screen.session.id
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.chat_screen.session.id != first
        assert user_texts(app) == []
        await send(pilot, "second session")
        second = app.chat_screen.session.id

        # ctrl+up / ctrl+down walk the role's sessions (most recent first).
        await pilot.press("ctrl+down")
        await pilot.pause()
        assert app.chat_screen.session.id == first
        assert user_texts(app) == ["first session"]
        await pilot.press("ctrl+up")
        await pilot.pause()
        assert app.chat_screen.session.id == second

        # Rename (F2).
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen), "rename dialog")
        app.screen.query_one("#text-input").value = "Renamed chat"
        await pilot.press("enter")
        await until(pilot, lambda: app.chat_screen.session.title == "Renamed chat", "renamed")
        assert services.repository.get_session(second).title == "Renamed chat"

        # Clear (ctrl+l) asks first; "n" keeps everything.
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "clear confirm")
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "dialog closed")
        assert len(services.repository.messages(second)) == 2
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "clear confirm")
        await pilot.press("y")
        await until(pilot, lambda: services.repository.messages(second) == [], "cleared")
        await until(pilot, lambda: user_texts(app) == [], "pane cleared")

        # Delete (ctrl+d) asks first.
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "delete confirm")
        await pilot.press("y")
        await until(pilot, lambda: services.repository.get_session(second) is None, "deleted")
        assert app.chat_screen.session.id == first


async def test_keymap_from_config_rebinds_an_action(isolated_home, fake_openai) -> None:
    settings = make_settings(
        fake_openai.url, home=isolated_home, config='[keymap]\n"session.new" = "ctrl+t"\n'
    )
    services = open_services(settings, context=None)
    fake_openai.script(Reply(content="x"))
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await send(pilot, "hello")
            before = app.chat_screen.session.id
            await pilot.press("ctrl+t")
            await pilot.pause()
            assert app.chat_screen.session.id != before
    finally:
        services.close()


async def test_keymap_rebinds_the_prompts_send_and_new_line_keys(
    isolated_home, fake_openai
) -> None:
    keymap = '[keymap]\n"prompt.send" = "f9"\n"prompt.newline" = "enter"\n'
    settings = make_settings(fake_openai.url, home=isolated_home, config=keymap)
    services = open_services(settings, context=None)
    fake_openai.script(Reply(content="x"))
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            prompt = app.query_one(PromptInput)
            prompt.focus()
            await pilot.press("a", "enter", "b")
            assert prompt.text == "a\nb"  # enter is the new line now
            await pilot.press("f9")
            await app.workers.wait_for_complete()
            await pilot.pause()
            stored = services.repository.messages(app.chat_screen.session.id)
            assert [m.content for m in stored if m.role == "user"] == ["a\nb"]
            await pilot.press("f1")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
            keys = {row[1]: row[0] for row in app.screen.rows}
            assert keys["Send the prompt (prompt)"] == "f9"
    finally:
        services.close()


async def test_copy_last_answer_uses_the_clipboard(services, fake_openai) -> None:
    fake_openai.script(Reply(content="copy me"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.clipboard == "copy me"


async def test_sidebar_lists_the_most_recent_sessions_per_role_and_reaches_older_ones(
    services, fake_openai
) -> None:
    from chat_tui.domain.models import Message, Session
    from chat_tui.tui.widgets.sidebar import MAX_PER_ROLE, SessionSidebar

    count = MAX_PER_ROLE + 20
    import_sessions(
        services.settings.history_dir,
        [
            (
                Session(role="teacher", title=f"lesson {n:03d}", created_at=n, updated_at=n),
                [Message(session_id="", role="user", content=f"q{n}", created_at=n)],
            )
            for n in range(count)
        ],
    )
    services.repository.refresh()  # take in the files written beside it
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("alt+2")
        await app.chat_screen.history_shown()
        await pilot.pause()
        sidebar = app.query_one(SessionSidebar)

        def listed() -> list[str]:
            prompts = (sidebar.get_option_at_index(i) for i in range(sidebar.option_count))
            return [
                o.prompt.plain.split()[1] for o in prompts if o.id and "lesson" in str(o.prompt)
            ]

        titles = listed()
        assert len(titles) == MAX_PER_ROLE and titles[0] == f"{count - 1:03d}"
        older = [sidebar.get_option_at_index(i).prompt for i in range(sidebar.option_count)]
        assert any("20 older" in str(p) for p in older)
        # An older session (reached with ctrl+up/down) is listed while it is open.
        oldest = services.repository.list_sessions("teacher")[-1]
        await app.chat_screen.open_session(oldest)
        await pilot.pause()
        assert "000" in listed() and len(listed()) == MAX_PER_ROLE + 1
        assert sidebar.highlighted is not None
        assert sidebar.get_option_at_index(sidebar.highlighted).id == app.chat_screen.session.id


def session_files(services) -> list[Path]:  # type: ignore[no-untyped-def]
    folder = services.settings.history_dir / "sessions"
    return sorted(folder.iterdir()) if folder.is_dir() else []


async def test_a_new_session_is_stored_only_once_it_has_a_message(
    services, fake_openai, isolated_home: Path
) -> None:
    fake_openai.script(Reply(content="a1"), Reply(content="p1"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.chat_screen.session is not None, "first session open")
        # Start-up with an empty history, ctrl+n twice, a role with no sessions, F2 and
        # ctrl+b on the draft: nothing is written.
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("alt+3")
        await until(pilot, lambda: app.chat_screen.role_name == "programmer", "programmer role")
        await pilot.press("ctrl+b")
        await until(
            pilot, lambda: not app.chat_screen.session.retrieval_enabled, "KB off on the draft"
        )
        assert session_files(services) == []
        assert services.repository.list_sessions() == []

        await send(pilot, "programmer question")
        stored = services.repository.list_sessions()
        assert [(s.role, s.title, s.message_count) for s in stored] == [
            ("programmer", "programmer question", 2)
        ]
        assert stored[0].retrieval_enabled is False  # the draft's switch came along
        assert app.chat_screen.session.id == stored[0].id
        assert len(session_files(services)) == 1

        # Back to assistant (no sessions: a draft again), then away without a message.
        await pilot.press("alt+1")
        await until(pilot, lambda: app.chat_screen.role_name == "assistant", "assistant role")
        assert user_texts(app) == []
        await pilot.press("ctrl+n")
        await pilot.pause()
    assert len(session_files(services)) == 1

    restarted = reopen(fake_openai, isolated_home)
    try:
        titles = [s.title for s in restarted.repository.list_sessions()]
        assert titles == ["programmer question"]
        assert "New chat" not in titles
    finally:
        restarted.close()


async def test_messages_another_process_adds_to_the_open_session_appear(
    services, fake_openai, isolated_home: Path
) -> None:
    fake_openai.script(Reply(content="first answer"), Reply(content="answer from ask"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "from the TUI")
        session_id = app.chat_screen.session.id
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(isolated_home / "xdg-data"),
            "XDG_CONFIG_HOME": str(isolated_home / "xdg-config"),
            "OPENAI_BASE_URL": fake_openai.url,
            "OPENAI_API_KEY": SECRET_KEY,
        }
        ask = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "chat-tui"),
            "ask",
            "--no-kb",
            "--session",
            session_id,
            "from another process",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert await ask.wait() == 0
        await until(
            pilot,
            lambda: user_texts(app) == ["from the TUI", "from another process"],
            "the other process's turn shown",
            rounds=2000,
        )
        # Sending again keeps both turns (nothing overwritten).
        fake_openai.script(Reply(content="third"))
        await send(pilot, "again from the TUI")
        stored = [m.content for m in services.repository.messages(session_id) if m.role == "user"]
        assert stored == ["from the TUI", "from another process", "again from the TUI"]


async def test_a_chinese_session_title_is_cut_to_the_sidebars_cells_on_one_line(
    services, fake_openai
) -> None:
    from rich.cells import cell_len

    from chat_tui.tui.widgets.sidebar import SessionSidebar

    title = "关于软件包维护的长篇讨论与实际操作步骤总结"  # 21 characters, 42 cells
    session = services.repository.create_session(services.settings.default_role, title)
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.chat_screen.history_shown()
        sidebar = app.query_one(SessionSidebar)
        await until(pilot, lambda: sidebar.option_count > 1, "sessions listed")
        shown = sidebar.get_option(session.id).prompt.plain
        room = sidebar.scrollable_content_region.width
        assert len(shown) < room < cell_len(title)  # counted in characters it would fit
        assert cell_len(shown) <= room, (shown, cell_len(shown), room)
        assert shown.startswith(title[:5]) and "…" in shown and shown.endswith("now")
