"""Regressions from review: markup in errors, keys under dialogs, Esc during retrieval."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from chat_tui.cli import app as cli_app
from chat_tui.config import load_settings
from chat_tui.domain.models import MessageStatus
from chat_tui.services.bootstrap import open_services
from chat_tui.tui.screens.dialogs import ConfirmScreen
from tests.conftest import make_settings
from tests.support.fake_openai import Reply
from tests.tui.conftest import make_app, send, until


async def test_server_text_with_markup_in_an_error_does_not_crash(services, fake_openai) -> None:
    fake_openai.script(
        Reply(status=400, error_message="expected [/v1/chat] and [@click=app.quit]x[/]")
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hi")
        await pilot.pause()
        answer = services.repository.messages(app.session.id)[-1]
        assert answer.status is MessageStatus.FAILED and "[/v1/chat]" in answer.error
        assert app.is_running and app._exception is None


async def test_bindings_under_a_dialog_do_not_queue_a_second_delete(services, fake_openai) -> None:
    fake_openai.script(Reply(content="a"), Reply(content="b"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "older")
        older = app.session.id
        await pilot.press("ctrl+n")
        await send(pilot, "newer")
        newer = app.session.id
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirm")
        await pilot.press("ctrl+d", "ctrl+g")
        assert sum(isinstance(s, ConfirmScreen) for s in app.screen_stack) == 1
        assert not app.streaming
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
            assert "searching" in app.status.step
            await pilot.press("escape")
            await app.workers.wait_for_complete()
            await pilot.pause()
            stored = services.repository.messages(app.session.id)
            assert [m.role for m in stored] == ["user", "assistant"]
            assert stored[-1].status is MessageStatus.STOPPED
            assert app.status.step == ""
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


async def test_an_unknown_theme_is_a_notice_naming_the_key(services, fake_openai) -> None:
    from dataclasses import replace

    services.settings = replace(services.settings, theme="no-such-theme")
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        notices = [n.message for n in app._notifications]
        assert any("theme 'no-such-theme'" in n and "config.toml" in n for n in notices), notices
        assert app.theme == "textual-dark"
