"""Failures the app survives: markup in errors, keys under dialogs, Esc during retrieval,
provider time-outs, and a damaged session file at start-up."""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.notifications import Notify
from typer.testing import CliRunner

from chat_tui.cli import app as cli_app
from chat_tui.config import Settings, load_settings
from chat_tui.domain.models import Message, MessageStatus
from chat_tui.services.bootstrap import AppServices, open_services
from chat_tui.storage.schema import SESSIONS_DIR, session_file_name
from chat_tui.storage.tinydb_repo import TinyDBRepository
from chat_tui.tui.screens.dialogs import ConfirmScreen
from chat_tui.tui.widgets.chat_view import AnswerView, Notice, UserMessage
from chat_tui.tui.widgets.sidebar import SessionSidebar
from tests.conftest import SECRET_KEY, make_settings
from tests.support.fake_openai import Reply
from tests.tui.conftest import answers, make_app, notifications, reopen, send, status_text, until


async def test_server_text_with_markup_in_an_error_does_not_crash(services, fake_openai) -> None:
    fake_openai.script(
        Reply(status=400, error_message="expected [/v1/chat] and [@click=app.quit]x[/]")
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hi")
        await pilot.pause()
        answer = services.repository.messages(app.chat_screen.session.id)[-1]
        assert answer.status is MessageStatus.FAILED and "[/v1/chat]" in answer.error
        assert app.is_running and app.return_code is None


async def test_bindings_under_a_dialog_do_not_queue_a_second_delete(services, fake_openai) -> None:
    fake_openai.script(Reply(content="a"), Reply(content="b"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "older")
        older = app.chat_screen.session.id
        await pilot.press("ctrl+n")
        await send(pilot, "newer")
        newer = app.chat_screen.session.id
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirm")
        await pilot.press("ctrl+d", "ctrl+g")
        assert sum(isinstance(s, ConfirmScreen) for s in app.screen_stack) == 1
        assert not app.chat_screen.streaming
        await pilot.press("y")
        await until(pilot, lambda: services.repository.get_session(newer) is None, "deleted")
        assert services.repository.get_session(older) is not None


class StuckContext:
    """A retrieval step that never finishes (the seam, to test cancellation around it)."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def gather(self, question: str, knowledge_base: str):  # type: ignore[no-untyped-def]
        self.entered.set()
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        pass


async def test_escape_during_retrieval_stores_a_stopped_turn_and_clears_the_status(
    fake_openai, isolated_home: Path
) -> None:
    context = StuckContext()
    services = open_services(make_settings(fake_openai.url, home=isolated_home), context=context)
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one("#prompt").text = "question"
            await pilot.press("enter")
            await until(pilot, context.entered.is_set, "retrieval started")
            assert "searching" in app.chat_screen.status.step
            await pilot.press("escape")
            await app.workers.wait_for_complete()
            await pilot.pause()
            stored = services.repository.messages(app.chat_screen.session.id)
            assert [m.role for m in stored] == ["user", "assistant"]
            assert stored[-1].status is MessageStatus.STOPPED
            assert app.chat_screen.status.step == ""
            assert fake_openai.requests == []
    finally:
        services.close()


def test_roles_add_with_a_bad_name_keeps_the_existing_role(isolated_home: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli_app, ["roles", "add", "x", "--prompt", "keep me"]).exit_code == 0
    bad = runner.invoke(cli_app, ["roles", "add", "x!", "--prompt", "oops"])
    assert bad.exit_code == 2 and "name must be" in bad.output
    role_file = isolated_home / "xdg-config" / "chat-tui" / "roles" / "x.toml"
    assert "keep me" in role_file.read_text(encoding="utf-8")


def test_base_url_flag_to_a_local_server_drops_the_hosted_key(tmp_path: Path) -> None:
    settings = load_settings(
        config_file=tmp_path / "none.toml",
        env={"OPENAI_API_KEY": "sk-hosted-only-123456"},
        base_url="http://127.0.0.1:11434/v1",
    )
    assert settings.provider.api_key is None
    remote = load_settings(
        config_file=tmp_path / "none.toml",
        env={"OPENAI_API_KEY": "sk-hosted-only-123456"},
        base_url="https://gateway.example.com/v1",
    )
    assert remote.provider.api_key == "sk-hosted-only-123456"


async def test_an_unknown_theme_is_a_notice_naming_the_key(fake_openai, isolated_home) -> None:
    settings = make_settings(fake_openai.url, home=isolated_home)
    settings = replace(settings, theme="no-such-theme")
    services = open_services(settings, context=None)
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            notices = [n.message for n in app.notices]
            assert any("theme 'no-such-theme'" in n and "config.toml" in n for n in notices), (
                notices
            )
            assert app.theme == "textual-dark"
    finally:
        await services.chat.aclose()
        services.close()


# ----------------------------------------------------------------------------- Esc after Enter


class GatedRepository(TinyDBRepository):
    """The real TinyDB repository, whose first user-message save waits for a gate.

    This holds the app at the instant "Enter pressed, user turn not yet stored".
    """

    def __init__(self, history_dir: Path) -> None:
        super().__init__(history_dir)
        self.entered = threading.Event()
        self.gate = threading.Event()

    def append_message(self, message: Message) -> None:
        if message.role == "user" and not self.gate.is_set():
            self.entered.set()
            self.gate.wait(timeout=30)
        super().append_message(message)


INSTANTS = ["before-save", "during-retrieval", "before-first-byte", "mid-stream"]


@pytest.mark.parametrize("instant", INSTANTS)
async def test_escape_at_any_instant_after_enter_keeps_a_stopped_turn_and_alternating_roles(
    instant: str, fake_openai, isolated_home: Path
) -> None:
    settings = make_settings(fake_openai.url, home=isolated_home)
    repository = GatedRepository(settings.history_dir)
    if instant != "before-save":
        repository.gate.set()
    context = StuckContext() if instant == "during-retrieval" else None
    held = threading.Event()
    if instant == "before-first-byte":
        fake_openai.script(Reply(content="never shown", hold=held, hold_after=0))
    elif instant == "mid-stream":
        fake_openai.script(Reply(content="Partial text, then", chunk_chars=8, hold=held))
    services = open_services(settings, repository=repository, context=context)
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one("#prompt").text = "question one"
            await pilot.press("enter")
            if instant == "before-save":
                await until(pilot, repository.entered.is_set, "user turn being saved")
            elif instant == "during-retrieval":
                assert context is not None
                await until(pilot, context.entered.is_set, "retrieval started")
            elif instant == "before-first-byte":
                await until(pilot, lambda: len(fake_openai.requests) == 1, "request sent")
            else:
                await until(
                    pilot,
                    lambda: any(v.streamed_text for v in app.query(AnswerView)),
                    "first text on screen",
                )
            assert app.chat_screen.streaming
            await pilot.press("escape")
            repository.gate.set()
            # Polled, not wait_for_complete: that raises for a cancelled, still-running worker.
            await until(pilot, lambda: not app.chat_screen.streaming, "the turn ended")
            await pilot.pause()
            assert app.chat_screen.session is not None
            stored = services.repository.messages(app.chat_screen.session.id)
            assert [(m.role, m.content) for m in stored][0] == ("user", "question one")
            assert [m.role for m in stored] == ["user", "assistant"]
            assert stored[1].status is MessageStatus.STOPPED and stored[1].error is None
            assert stored[1].content == ("Partial " if instant == "mid-stream" else "")
            # Shown: the question and a stopped answer, no spinner left behind.
            assert [str(u.render()) for u in app.query(UserMessage)] == ["question one"]
            status = app.query(AnswerView).last().query_one(".answer-status")
            assert "stopped" in str(status.render())
            assert app.query_one("#prompt").text == ""

            held.set()
            fake_openai.script(Reply(content="second answer"))
            before = len(fake_openai.requests)
            await send(pilot, "question two")
            assert len(fake_openai.requests) == before + 1
            sent = fake_openai.requests[-1]["messages"]
            roles = [m["role"] for m in sent]
            assert roles[0] == "system" and roles[-1] == "user"
            assert all(a != b for a, b in itertools.pairwise(roles[1:])), roles
            assert all(m["content"].strip() for m in sent)
            expected = ["question one", "Partial "] if instant == "mid-stream" else []
            assert [m["content"] for m in sent[1:-1]] == expected
            assert sent[-1]["content"] == "question two"
    finally:
        held.set()
        repository.gate.set()
        await services.chat.aclose()
        services.close()


async def test_a_failed_save_keeps_the_typed_prompt_and_says_why_in_one_line(
    services, fake_openai
) -> None:
    app = make_app(services, check_setup=False)
    errors: list[str] = []

    def hook(message: object) -> None:
        if isinstance(message, Notify) and message.notification.severity == "error":
            errors.append(message.notification.message)

    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await pilot.pause()
        # The data dir can no longer hold files: the sessions folder is now a file.
        sessions_dir = services.settings.history_dir / "sessions"
        shutil.rmtree(sessions_dir)
        sessions_dir.write_text("not a directory", encoding="utf-8")
        app.query_one("#prompt").text = "keep this text"
        await pilot.press("enter")
        await until(pilot, lambda: bool(errors), "error shown")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one("#prompt").text == "keep this text"
        assert fake_openai.requests == []
        assert not list(app.query(UserMessage))
    assert len(errors) == 1 and "\n" not in errors[0] and errors[0].strip()


# ----------------------------------------------------------------------------- provider time-outs

PROVIDER_TIMEOUT = 0.5


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


# ----------------------------------------------------------------------------- damaged file

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
