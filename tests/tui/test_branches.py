"""Edit and resend, versions of a message, switching branches (issue 11.3).

The real App against the local fake OpenAI-compatible server and a real TinyDB
history: what is asserted is what the pane shows, what is stored, and what each
request carried as context.
"""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from chat_tui.storage.tinydb_repo import TinyDBRepository
from chat_tui.tui.branch_editing import EDITING_TITLE
from chat_tui.tui.widgets.branch_switch import BranchSwitch
from chat_tui.tui.widgets.chat_view import UserMessage
from chat_tui.tui.widgets.prompt import PromptInput
from tests.support.fake_openai import Reply
from tests.tui.conftest import branch_lines, make_app, send, until


def shown_questions(app: Any) -> list[str]:
    return [w.message.content for w in app.query(UserMessage)]


def sent_contents(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"][1:]]  # less the system prompt


async def two_turns(pilot: Any) -> None:
    await send(pilot, "first question")
    await send(pilot, "second question")


async def test_edit_and_resend_starts_a_branch_and_keeps_the_old_one(services, fake_openai) -> None:
    fake_openai.script(
        Reply(content="first answer"),
        Reply(content="second answer"),
        Reply(content="edited answer"),
        Reply(content="third answer"),
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await two_turns(pilot)
        prompt = app.query_one(PromptInput)
        # ctrl+o selects the last answer; up selects the question above it; e edits it.
        await pilot.press("ctrl+o", "up", "e")
        assert prompt.text == "second question"
        assert prompt.has_class("-editing") and prompt.border_title == EDITING_TITLE
        assert app.focused is prompt
        prompt.text = "second question, edited"
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await until(pilot, lambda: branch_lines(app) == ["‹ 2/2 ›"], "the 2/2 line")
        assert not prompt.has_class("-editing") and not prompt.border_title
        # Only the branch shown went as context: not the old second question.
        assert sent_contents(fake_openai.requests[2]) == [
            "first question",
            "first answer",
            "second question, edited",
        ]
        assert shown_questions(app) == ["first question", "second question, edited"]
        session = app.chat_screen.session
        stored = services.repository.messages(session.id)
        assert [m.content for m in stored] == [
            "first question",
            "first answer",
            "second question",
            "second answer",
            "second question, edited",
            "edited answer",
        ]
        assert stored[4].parent_id == stored[2].parent_id == stored[1].id
        # left on the edited question shows the old branch, and a turn sent there
        # continues it (with its own context).
        await pilot.press("ctrl+o", "up", "left")
        await until(pilot, lambda: branch_lines(app) == ["‹ 1/2 ›"], "the old branch")
        assert shown_questions(app) == ["first question", "second question"]
        await send(pilot, "third question")
        assert sent_contents(fake_openai.requests[3]) == [
            "first question",
            "first answer",
            "second question",
            "second answer",
            "third question",
        ]
        # Reopened, the session shows the branch last chosen.
        await app.chat_screen.show_history(app.chat_screen.session)
        assert shown_questions(app) == ["first question", "second question", "third question"]
        # right goes back to the newer branch, followed to its end.
        await pilot.press("ctrl+o", "up", "up", "up", "right")
        await until(pilot, lambda: "‹ 2/2 ›" in branch_lines(app), "the new branch")
        assert shown_questions(app) == ["first question", "second question, edited"]


async def test_esc_cancels_the_edit_and_nothing_is_sent(services, fake_openai) -> None:
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "only question")
        prompt = app.query_one(PromptInput)
        await pilot.press("ctrl+o", "up", "e")
        assert prompt.text == "only question" and prompt.has_class("-editing")
        await pilot.press("escape")
        assert prompt.text == "" and not prompt.has_class("-editing")
        assert not app.query(".-editing")
        # The next message is an ordinary one, after the answer.
        await send(pilot, "next question")
        stored = services.repository.messages(app.chat_screen.session.id)
        assert stored[2].parent_id == stored[1].id
        assert branch_lines(app) == []


async def test_an_answer_selected_is_not_edited_and_keys_say_why(services, fake_openai) -> None:
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        await pilot.press("ctrl+o", "e")  # the answer is selected
        assert app.query_one(PromptInput).text == ""
        await pilot.press("left")  # one version only
        await pilot.pause()
        assert any("no other version" in n.message for n in app.notices)


async def test_mouse_double_click_edits_and_the_switch_line_clicks(services, fake_openai) -> None:
    fake_openai.script(
        Reply(content="answer one"), Reply(content="answer two"), Reply(content="answer 1b")
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await two_turns(pilot)
        first = app.query(UserMessage).first()
        await pilot.click(first)
        assert first.has_class("-selected")
        await pilot.click(first, times=2)
        prompt = app.query_one(PromptInput)
        assert prompt.text == "first question" and prompt.has_class("-editing")
        prompt.text = "first question, again"
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        # The first question edited: a second start of the conversation.
        await until(pilot, lambda: branch_lines(app) == ["‹ 2/2 ›"], "the 2/2 line")
        assert sent_contents(fake_openai.requests[2]) == ["first question, again"]
        switch = app.query_one(BranchSwitch)
        await pilot.click(switch, offset=(0, 0))  # the left half: the version before
        await until(pilot, lambda: branch_lines(app) == ["‹ 1/2 ›"], "the old branch")
        assert shown_questions(app) == ["first question", "second question"]
        switch = app.query_one(BranchSwitch)
        await pilot.click(switch, offset=(switch.size.width - 1, 0))  # the right half
        await until(pilot, lambda: branch_lines(app) == ["‹ 2/2 ›"], "back again")
        assert shown_questions(app) == ["first question, again"]


async def test_sessions_show_prints_the_branch_shown_and_json_keeps_all(
    services, fake_openai
) -> None:
    fake_openai.script(Reply(content="old answer"), Reply(content="new answer"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        await pilot.press("ctrl+g")
        await pilot.pause()
        await app.workers.wait_for_complete()
        session_id = app.chat_screen.session.id
    services.close()
    from chat_tui.cli import app as cli_app

    runner = CliRunner()
    shown = runner.invoke(cli_app, ["sessions", "show", session_id])
    assert shown.exit_code == 0, shown.output
    assert "new answer" in shown.output and "old answer" not in shown.output
    dumped = runner.invoke(cli_app, ["sessions", "show", session_id, "--json"])
    assert "new answer" in dumped.output and "old answer" in dumped.output
    assert '"parent_id"' in dumped.output


async def test_a_switch_made_by_another_process_is_shown(services, fake_openai) -> None:
    fake_openai.script(Reply(content="old answer"), Reply(content="new answer"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        await pilot.press("ctrl+g")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await until(pilot, lambda: branch_lines(app) == ["‹ 2/2 ›"], "the new answer")
        session_id = app.chat_screen.session.id
        old = services.repository.messages(session_id)[1]
        # Another process (its own repository on the same history) picks the old answer.
        other = TinyDBRepository(services.repository.history_dir)
        try:
            other.select_leaf(session_id, old.id)
        finally:
            other.close()
        await until(
            pilot, lambda: branch_lines(app) == ["‹ 1/2 ›"], "the switch shown", rounds=2000
        )


async def test_opening_another_session_leaves_the_edit_mode(services, fake_openai) -> None:
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        prompt = app.query_one(PromptInput)
        await pilot.press("ctrl+o", "up", "e")
        assert prompt.has_class("-editing")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert not prompt.has_class("-editing") and prompt.text == "q"
        assert app.chat_screen.branching.editing is None


async def test_regenerate_on_an_older_branch_adds_a_version_there(services, fake_openai) -> None:
    fake_openai.script(
        Reply(content="answer A"),
        Reply(content="follow-up answer"),
        Reply(content="answer B"),
        Reply(content="answer C"),
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        await send(pilot, "follow-up")
        await pilot.press("ctrl+g")  # a second version of the follow-up's answer
        await pilot.pause()
        await app.workers.wait_for_complete()
        await until(pilot, lambda: branch_lines(app) == ["‹ 2/2 ›"], "2/2")
        await pilot.press("ctrl+o", "left")  # the follow-up's first answer again
        await until(pilot, lambda: branch_lines(app) == ["‹ 1/2 ›"], "1/2")
        # ctrl+g on that older branch: a third version beside both, shown.
        await pilot.press("escape", "ctrl+g")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await until(pilot, lambda: branch_lines(app) == ["‹ 3/3 ›"], "3/3")
        stored = services.repository.messages(app.chat_screen.session.id)
        follow_up = stored[2]
        assert [m.content for m in stored if m.parent_id == follow_up.id] == [
            "follow-up answer",
            "answer B",
            "answer C",
        ]
        assert sent_contents(fake_openai.requests[-1]) == ["q", "answer A", "follow-up"]
