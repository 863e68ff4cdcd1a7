"""Pilot tests of the real App against a real local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import shutil
import threading
from dataclasses import replace

import pytest
from textual.await_complete import AwaitComplete
from textual.widgets import Collapsible, Markdown, Static
from textual.widgets.markdown import MarkdownBlock

from chat_tui.domain.models import MessageStatus
from chat_tui.services import chat as chat_service
from chat_tui.services.bootstrap import open_services
from chat_tui.tui.screens.setup import SetupScreen
from chat_tui.tui.widgets.chat_view import (
    MAX_FLUSH_CHARS,
    SEGMENT_CHARS,
    SEGMENT_HARD_CHARS,
    SMALL_BACKLOG,
    AnswerView,
    Notice,
    UserMessage,
)
from chat_tui.tui.widgets.prompt import PromptInput
from chat_tui.tui.widgets.sidebar import SessionSidebar
from tests.conftest import SECRET_KEY, make_settings
from tests.support.fake_openai import Reply
from tests.tui.conftest import answers, branch_lines, make_app, reopen, send, until


def markdown_source(view: AnswerView) -> str:
    """The answer's Markdown source, over all the segments it is drawn in."""
    assert all(isinstance(m, Markdown) for m in view.segments)
    return "".join(m.source for m in view.segments)


async def test_answer_streams_in_as_markdown_and_is_stored(services, fake_openai) -> None:
    fake_openai.script(
        Reply(
            content="# Title\n\nSome **bold** text.\n\n```python\nprint('hi')\n```\n", chunk_chars=3
        )
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hello there")
        views = answers(app)
        assert len(views) == 1
        assert (
            markdown_source(views[0])
            == "# Title\n\nSome **bold** text.\n\n```python\nprint('hi')\n```\n"
        )
        # The code block rendered as a fence widget, not as raw text.
        assert views[0].query("MarkdownFence")
        session = app.chat_screen.session
        assert session is not None and session.title == "hello there"
        stored = services.repository.messages(session.id)
        assert [m.role for m in stored] == ["user", "assistant"]
        assert stored[1].status is MessageStatus.COMPLETE
        assert stored[1].usage is not None and stored[1].usage.completion_tokens == 34
        request = fake_openai.requests[0]
        assert request["stream"] is True
        assert request["messages"][0]["role"] == "system"
        assert request["messages"][-1] == {"role": "user", "content": "hello there"}
        assert fake_openai.headers[0]["Authorization"] == f"Bearer {SECRET_KEY}"


async def test_a_burst_larger_than_one_flush_renders_in_pieces_and_completely(
    services, fake_openai
) -> None:
    # A fast server can deliver a whole long answer between two frames; the pane hands it
    # to the Markdown stream in bounded pieces and must still show every character.
    section = "## Part {n}\n\nText with `code` and **bold**.\n\n```python\nx = {n}\n```\n\n"
    content = "".join(section.format(n=n) for n in range(150))
    assert len(content) > 5 * MAX_FLUSH_CHARS
    fake_openai.script(Reply(content=content, chunk_chars=len(content)))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "long one")
        (view,) = answers(app)
        assert markdown_source(view) == content
        assert len(view.query("MarkdownFence")) == 150
        stored = services.repository.messages(app.chat_screen.session.id)
        assert stored[-1].content == content and stored[-1].status is MessageStatus.COMPLETE


async def test_second_request_carries_the_first_turn(services, fake_openai) -> None:
    fake_openai.script(Reply(content="Paris."), Reply(content="About 2.1 million."))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "What is the capital of France?")
        await send(pilot, "How many people live there?")
        second = fake_openai.requests[1]["messages"]
        assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
        assert second[1]["content"] == "What is the capital of France?"
        assert second[2]["content"] == "Paris."
        assert second[3]["content"] == "How many people live there?"


async def test_reasoning_streams_into_a_folded_thinking_block_and_is_not_sent_back(
    services, fake_openai
) -> None:
    fake_openai.script(
        Reply(reasoning="Let me think about primes.", content="7 is prime."), Reply(content="ok")
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "Is 7 prime?")
        view = answers(app)[0]
        thinking = view.query_one(".thinking", Collapsible)
        assert thinking.display is True
        assert thinking.collapsed is True
        stored = services.repository.messages(app.chat_screen.session.id)
        assert stored[1].reasoning == "Let me think about primes."
        await send(pilot, "And 9?")
        sent = fake_openai.requests[1]["messages"]
        assert all("primes" not in m["content"] for m in sent)
        assert sent[2]["content"] == "7 is prime."


async def test_reasoning_field_variant_is_understood(services, fake_openai) -> None:
    fake_openai.script(
        Reply(reasoning="vllm style thoughts", reasoning_field="reasoning", content="done")
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        assert (
            services.repository.messages(app.chat_screen.session.id)[1].reasoning
            == "vllm style thoughts"
        )


async def test_escape_stops_the_answer_and_keeps_the_partial_text(services, fake_openai) -> None:
    gate = threading.Event()
    fake_openai.script(
        Reply(
            content="First part. Second part never arrives.", chunk_chars=5, hold=gate, hold_after=2
        )
    )
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            prompt = app.query_one("#prompt")
            prompt.text = "tell me"
            await pilot.press("enter")
            await until(
                pilot,
                lambda: bool(answers(app)) and answers(app)[0].streamed_text == "First part",
                "partial text",
            )
            assert app.chat_screen.streaming
            await pilot.press("escape")
            await app.workers.wait_for_complete()
            await pilot.pause()
            stored = services.repository.messages(app.chat_screen.session.id)
            assert stored[-1].status is MessageStatus.STOPPED
            assert stored[-1].content == "First part"
            status = answers(app)[0].query_one(".answer-status")
            assert "stopped" in str(status.render())
            # The app is still usable afterwards.
            fake_openai.script(Reply(content="fresh answer"))
            await send(pilot, "again")
            assert (
                services.repository.messages(app.chat_screen.session.id)[-1].content
                == "fresh answer"
            )
    finally:
        gate.set()


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(status=401, error_message="Incorrect API key provided"), "401"),
        (Reply(status=404, error_message="The model `nope` does not exist"), "404"),
        (Reply(status=429, error_message="Rate limit reached"), "429"),
        (Reply(status=500, error_message="internal error"), "500"),
        (Reply(content="This answer is cut off right here and never ends", cut_after=3), "cut"),
    ],
    ids=["401", "unknown-model", "429", "500", "cut-mid-stream"],
)
async def test_errors_are_one_readable_line_and_the_app_stays_usable(
    services, fake_openai, reply, expected
) -> None:
    # Retried statuses fail every attempt so the error surfaces.
    fake_openai.script(reply, reply, reply)
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hi")
        stored = services.repository.messages(app.chat_screen.session.id)
        answer = stored[-1]
        assert answer.status is MessageStatus.FAILED
        assert answer.error and "\n" not in answer.error and "Traceback" not in answer.error
        assert (
            expected in answer.error.lower() or expected == "cut" and "cut" in answer.error.lower()
        )
        assert SECRET_KEY not in answer.error
        if expected == "cut":
            assert answer.content  # what arrived before the cut is kept
        status = answers(app)[-1].query_one(".answer-status")
        assert answer.error in str(status.render())
        fake_openai.script(Reply(content="recovered"))
        await send(pilot, "again")
        assert services.repository.messages(app.chat_screen.session.id)[-1].content == "recovered"


async def test_429_before_the_first_token_is_retried(services, fake_openai) -> None:
    fake_openai.script(
        Reply(status=429, error_message="slow down", retry_after=0.01), Reply(content="after retry")
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hi")
        assert services.repository.messages(app.chat_screen.session.id)[-1].content == "after retry"
        assert len(fake_openai.requests) == 2


async def test_unreachable_server_is_a_readable_error(isolated_home, fake_openai) -> None:
    services = open_services(
        make_settings("http://127.0.0.1:9/v1", home=isolated_home), context=None
    )
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await send(pilot, "anyone there?")
            answer = services.repository.messages(app.chat_screen.session.id)[-1]
            assert answer.status is MessageStatus.FAILED
            assert "127.0.0.1:9" in answer.error
    finally:
        services.close()


async def test_regenerate_adds_an_answer_beside_the_last_one(services, fake_openai) -> None:
    # Regenerate used to replace the answer; now both are kept, the new one shown.
    fake_openai.script(Reply(content="first try"), Reply(content="second try"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        await pilot.press("ctrl+g")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        stored = services.repository.messages(app.chat_screen.session.id)
        assert [m.content for m in stored] == ["q", "first try", "second try"]
        assert stored[1].parent_id == stored[2].parent_id == stored[0].id
        assert [markdown_source(v) for v in answers(app)] == ["second try"]
        assert branch_lines(app) == ["‹ 2/2 ›"]
        assert len(fake_openai.requests) == 2
        assert fake_openai.requests[1]["messages"][-1]["content"] == "q"
        # The first answer is one key away (ctrl+o selects the last message).
        await pilot.press("ctrl+o", "left")
        await until(pilot, lambda: branch_lines(app) == ["‹ 1/2 ›"], "switched")
        assert [markdown_source(v) for v in answers(app)] == ["first try"]
        assert app.chat_screen.session.current_leaf == stored[1].id


async def test_a_failed_regenerate_keeps_the_earlier_answer(services, fake_openai) -> None:
    fake_openai.script(
        Reply(content="good answer"),
        Reply(status=401, error_message="Incorrect API key provided"),
        Reply(content="better answer"),
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        # The failed attempt is shown beside the good answer, which is kept (‹ 1/2).
        await until(pilot, lambda: branch_lines(app) == ["‹ 2/2 ›"], "kept")
        stored = services.repository.messages(app.chat_screen.session.id)
        assert [(m.content, m.status) for m in stored] == [
            ("q", MessageStatus.COMPLETE),
            ("good answer", MessageStatus.COMPLETE),
            ("", MessageStatus.FAILED),
        ]
        assert "401" in (stored[-1].error or "")
        # The next retry drops the failed attempt (no text); the good answer stays.
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        stored = services.repository.messages(app.chat_screen.session.id)
        assert [m.content for m in stored] == ["q", "good answer", "better answer"]
        assert fake_openai.requests[2]["messages"][-1]["content"] == "q"
        assert [m["content"] for m in fake_openai.requests[2]["messages"][1:]] == ["q"]
        assert [markdown_source(v) for v in answers(app)] == ["better answer"]
        assert branch_lines(app) == ["‹ 2/2 ›"]


async def test_a_regenerate_cut_mid_answer_keeps_the_earlier_answer(services, fake_openai) -> None:
    fake_openai.script(
        Reply(content="good answer"),
        Reply(content="This answer is cut off halfway", chunk_chars=4, cut_after=3),
        Reply(content="better answer"),
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "q")
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        stored = services.repository.messages(app.chat_screen.session.id)
        assert [(m.content, m.status) for m in stored] == [
            ("q", MessageStatus.COMPLETE),
            ("good answer", MessageStatus.COMPLETE),
            ("This answer ", MessageStatus.FAILED),
        ]
        assert [markdown_source(v) for v in answers(app)] == ["This answer "]
        assert branch_lines(app) == ["‹ 2/2 ›"]
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [m.content for m in services.repository.messages(app.chat_screen.session.id)] == [
            "q",
            "good answer",
            "This answer ",
            "better answer",
        ]
        assert [markdown_source(v) for v in answers(app)] == ["better answer"]
        assert branch_lines(app) == ["‹ 3/3 ›"]


async def test_reasoning_answers_turn_after_turn(services, fake_openai) -> None:
    # The thinking block is mounted on the first reasoning delta; the 30 Hz flush used
    # to look its text up before the block had composed, and the app died.
    turns = 8
    fake_openai.script(
        *(
            Reply(reasoning=f"thinking about {n} " * 6, content=f"answer {n}", chunk_chars=2)
            for n in range(turns)
        )
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for n in range(turns):
            await send(pilot, f"question {n}")
        assert app.is_running
        stored = services.repository.messages(app.chat_screen.session.id)
        assert [m.status for m in stored if m.role == "assistant"] == [
            MessageStatus.COMPLETE
        ] * turns
        views = answers(app)
        assert [markdown_source(v) for v in views] == [f"answer {n}" for n in range(turns)]
        texts = [str(v.query_one(".reasoning-text").render()) for v in views]
        assert texts == [f"thinking about {n} " * 6 for n in range(turns)]


async def test_escape_while_the_pane_catches_up_stops_drawing_but_keeps_the_answer_complete(
    services, fake_openai
) -> None:
    section = "## Part {n}\n\nText with `code` and **bold**.\n\n```python\nx = {n}\n```\n\n"
    content = "".join(section.format(n=n) for n in range(1_000))
    fake_openai.script(Reply(content=content, chunk_chars=len(content)))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.chat_screen.history_shown()
        prompt = app.query_one("#prompt")
        prompt.text = "long"
        await pilot.press("enter")

        def stored_while_the_pane_drains() -> bool:
            views = answers(app)
            if app.chat_screen.session is None or not views:
                return False
            stored = services.repository.messages(app.chat_screen.session.id)
            return (
                len(stored) == 2
                and stored[-1].status is MessageStatus.COMPLETE
                and views[0].backlog > SMALL_BACKLOG
            )

        await until(pilot, stored_while_the_pane_drains, "stored while draining", rounds=2000)
        await pilot.press("escape")
        await until(pilot, lambda: not app.chat_screen.streaming, "turn over")
        (view,) = answers(app)
        drawn = markdown_source(view)
        assert content.startswith(drawn) and len(drawn) < len(content)
        assert view.message is not None and view.message.status is MessageStatus.COMPLETE
        status = str(view.query_one(".answer-status").render())
        assert "stopped" not in status and "not drawn" in status
        assert services.repository.messages(app.chat_screen.session.id)[-1].content == content


async def test_markup_and_escape_sequences_in_answers_are_data(services, fake_openai) -> None:
    nasty = "Look: [bold red]x[/] and \x1b]0;pwned\x07title \x1b[31mred\x1b[0m done"
    fake_openai.script(Reply(content=nasty, chunk_chars=2))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "[bold]user markup[/bold]")
        stored = services.repository.messages(app.chat_screen.session.id)
        assert stored[1].content == "Look: [bold red]x[/] and title red done"
        assert "\x1b" not in markdown_source(answers(app)[0])
        user = app.query_one(UserMessage)
        assert "[bold]user markup[/bold]" in str(user.render())
        rendered = answers(app)[0].query_one(".answer-body", Markdown)
        text = "".join(str(block.render()) for block in rendered.children)
        assert "[bold red]x[/]" in text


async def test_history_is_shown_again_after_restart(fake_openai, isolated_home) -> None:
    first = reopen(fake_openai, isolated_home)
    fake_openai.script(Reply(content="Remember the **blue** whale."))
    app = make_app(first, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "tell me about whales")
        session_id = app.chat_screen.session.id
        await pilot.press("ctrl+q")
    first.close()

    second = reopen(fake_openai, isolated_home)
    app = make_app(second, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert app.chat_screen.session is not None and app.chat_screen.session.id == session_id
            assert [str(u.render()) for u in app.query(UserMessage)] == ["tell me about whales"]
            assert markdown_source(answers(app)[0]) == "Remember the **blue** whale."
            sidebar = app.query_one(SessionSidebar)
            assert sidebar.get_option(session_id) is not None
    finally:
        second.close()


async def test_first_run_without_key_shows_setup_and_history_still_works(
    isolated_home, fake_openai
) -> None:
    settings = make_settings("https://api.example.invalid/v1", api_key=None, home=isolated_home)
    services = open_services(settings, context=None)
    app = make_app(services, check_setup=True)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, SetupScreen), "setup screen")
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, SetupScreen), "setup closed")
            await pilot.press("ctrl+n")
            await pilot.press("alt+2")
            await pilot.pause()
            assert app.chat_screen.role_name == "teacher"
    finally:
        services.close()


async def test_notices_from_storage_are_shown(services, fake_openai) -> None:
    services.notices.append("history/abc.json was unreadable and was moved aside")
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        notices = [str(n.render()) for n in app.query(Notice)]
        assert any("moved aside" in n for n in notices)


# ----------------------------------------------------------------------------- long answers

PARAGRAPH = "".join(f"word{i} " for i in range(40_000))  # ~270 KB, not one newline


async def test_one_long_paragraph_is_drawn_in_bounded_segments_and_completely(
    services, fake_openai, isolated_home
) -> None:
    fake_openai.script(Reply(content=PARAGRAPH, chunk_chars=2_000))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "say a lot")
        (view,) = answers(app)
        assert markdown_source(view) == PARAGRAPH
        assert len(view.segments) > len(PARAGRAPH) // SEGMENT_HARD_CHARS
        assert max(len(m.source) for m in view.segments) <= SEGMENT_HARD_CHARS
        stored = services.repository.messages(app.chat_screen.session.id)[-1]
        assert stored.content == PARAGRAPH and stored.status is MessageStatus.COMPLETE

    # Restarted, the stored answer is drawn the same way, segment by segment after mounting.
    restarted = reopen(fake_openai, isolated_home)
    try:
        app = make_app(restarted, check_setup=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: bool(answers(app)), "history shown")
            (view,) = answers(app)
            await until(pilot, lambda: markdown_source(view) == PARAGRAPH, "long answer drawn")
            assert len(view.segments) > 1
    finally:
        await restarted.chat.aclose()
        restarted.close()


def test_a_code_block_cut_by_a_segment_is_closed_and_reopened() -> None:
    from chat_tui.tui.widgets.segments import open_fence, segment_cut

    code = "```python\n" + "x = 1  # filler\n" * 2_000 + "```\n"
    segment = code[: SEGMENT_CHARS + 10]
    cut = segment_cut(segment, code[SEGMENT_CHARS + 10 :])
    assert cut is not None and len(segment) + cut <= SEGMENT_HARD_CHARS
    assert open_fence(segment) == "```python"
    assert open_fence(code) is None


async def test_esc_stops_drawing_a_long_answer_that_is_already_stored(
    services, fake_openai
) -> None:
    answer = PARAGRAPH * 3
    fake_openai.script(Reply(content=answer, chunk_chars=len(answer)))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#prompt").text = "go"
        await pilot.press("enter")
        await until(
            pilot, lambda: bool(answers(app)) and len(answers(app)[0].segments) > 2, "drawing"
        )
        view = answers(app)[0]
        assert view.backlog > 0
        await pilot.press("escape")
        await until(pilot, lambda: not app.chat_screen.streaming, "turn over")
        drawn = len(view.streamed_text)
        assert view.backlog == 0 and drawn < len(answer)
        stored = services.repository.messages(app.chat_screen.session.id)[-1]
        assert stored.content == answer  # stored whole: only the drawing stopped
        status = str(view.query_one(".answer-status").render())
        assert "not drawn" in status
        await pilot.pause()
        assert len(view.streamed_text) == drawn


async def test_an_endless_answer_is_cut_at_the_size_cap_with_a_notice(
    services, fake_openai, monkeypatch
) -> None:
    monkeypatch.setattr(chat_service, "MAX_ANSWER_CHARS", 6_000)
    fake_openai.script(Reply(content="x" * 40_000, chunk_chars=500, delay=0.001))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "never stop")
        stored = services.repository.messages(app.chat_screen.session.id)[-1]
        assert len(stored.content) == 6_000
        assert stored.status is MessageStatus.STOPPED
        assert stored.error and "size cap" in stored.error
        status = str(answers(app)[0].query_one(".answer-status").render())
        assert "size cap" in status
        fake_openai.wait_for_disconnects(1)  # the stream was stopped, not read to its end


async def test_quitting_mid_answer_stores_the_partial_answer_as_stopped(
    services, fake_openai
) -> None:
    gate = threading.Event()
    fake_openai.script(Reply(content="First part. Never more.", chunk_chars=5, hold=gate))
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one("#prompt").text = "tell me"
            await pilot.press("enter")
            await until(
                pilot,
                lambda: bool(answers(app)) and answers(app)[0].streamed_text == "First",
                "partial text",
            )
            session_id = app.chat_screen.session.id
            await pilot.press("ctrl+q")
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            stored = services.repository.messages(session_id)
            if len(stored) == 2 or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)  # polling the store; the write runs in a thread
        assert [m.role for m in stored] == ["user", "assistant"]
        assert stored[1].status is MessageStatus.STOPPED and stored[1].content == "First"
        assert stored[1].error is None  # the final save, not a crash checkpoint
    finally:
        gate.set()


async def test_a_checkpoint_left_by_a_crash_is_shown_as_interrupted(
    services, fake_openai, tmp_path
) -> None:
    gate = threading.Event()
    text = "".join(f"line {n}\n" for n in range(1_000))  # ~8 KB: past one checkpoint
    fake_openai.script(Reply(content=text, chunk_chars=100, hold=gate, hold_after=60))
    app = make_app(services, check_setup=False)
    crashed = tmp_path / "as-at-the-crash" / "history"
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one("#prompt").text = "long please"
            await pilot.press("enter")

            def checkpointed() -> bool:
                if app.chat_screen.session is None:
                    return False
                stored = services.repository.messages(app.chat_screen.session.id)
                return len(stored) == 2 and stored[1].error == chat_service.INTERRUPTED_NOTE

            await until(pilot, checkpointed, "a checkpoint on disk", rounds=2000)
            # The files as a kill -9 would leave them (every write is an atomic replace).
            shutil.copytree(services.settings.history_dir, crashed)
            gate.set()
            await until(pilot, lambda: not app.chat_screen.streaming, "answer complete")
    finally:
        gate.set()
    stored = services.repository.messages(app.chat_screen.session.id)[-1]
    assert stored.content == text and stored.error is None  # the final save replaced it

    after_crash = open_services(replace(services.settings, data_dir=crashed.parent), context=None)
    try:
        app = make_app(after_crash, check_setup=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: bool(answers(app)), "history shown")
            (view,) = answers(app)
            partial = view.message.content
            assert partial and text.startswith(partial) and len(partial) >= 4_096
            assert markdown_source(view) == partial
            assert "interrupted" in str(view.query_one(".answer-status").render())
    finally:
        await after_crash.chat.aclose()
        after_crash.close()


CONTEXT_REFUSAL = Reply(
    status=400,
    error_message="This model's maximum context length is 4096 tokens.",
    error_code="context_length_exceeded",
)


async def test_ctrl_g_after_a_context_length_refusal_retries_with_fewer_turns(
    services, fake_openai
) -> None:
    fake_openai.script(
        *(Reply(content=f"answer {n}") for n in range(4)),
        CONTEXT_REFUSAL,
        Reply(content="short enough"),
    )
    app = make_app(services, check_setup=False)
    notified: list[str] = []
    notify = app.notify

    def recording_notify(message: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        notified.append(message)
        notify(message, **kwargs)

    app.notify = recording_notify  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        for n in range(4):
            await send(pilot, f"question {n}")
        await send(pilot, "the long one")
        stored = services.repository.messages(app.chat_screen.session.id)
        refused = stored[-1]
        assert refused.status is MessageStatus.FAILED and refused.error_kind == "context_length"
        # The failed answer's footer and its notification name the key that fixes it.
        footer = str(answers(app)[-1].query_one(".answer-status").render())
        assert "ctrl+g: retry with fewer earlier turns" in footer
        assert any("ctrl+g: retry with fewer earlier turns" in n for n in notified)

        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: len(answers(app)) == 5, "the pane redrawn")
        first, second = fake_openai.requests[4]["messages"], fake_openai.requests[5]["messages"]
        assert len(second) < len(first)
        assert [m["content"] for m in first[1:]] == [
            *(t for n in range(4) for t in (f"question {n}", f"answer {n}")),
            "the long one",
        ]
        # The oldest half of the exchanges is dropped; the newest and the question stay.
        assert [m["content"] for m in second[1:]] == [
            "question 2",
            "answer 2",
            "question 3",
            "answer 3",
            "the long one",
        ]
        stored = services.repository.messages(app.chat_screen.session.id)
        assert [(m.content, m.status) for m in stored[-2:]] == [
            ("the long one", MessageStatus.COMPLETE),
            ("short enough", MessageStatus.COMPLETE),
        ]
        assert markdown_source(answers(app)[-1]) == "short enough"


async def test_context_length_retries_shrink_until_only_the_question_is_left(
    services, fake_openai
) -> None:
    fake_openai.script(
        *(Reply(content=f"answer {n}") for n in range(2)),
        CONTEXT_REFUSAL,
        CONTEXT_REFUSAL,
        CONTEXT_REFUSAL,
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for n in range(2):
            await send(pilot, f"question {n}")
        await send(pilot, "the long one")
        for _ in range(2):
            await pilot.press("ctrl+g")
            await app.workers.wait_for_complete()
            await pilot.pause()
        sizes = [len(r["messages"]) for r in fake_openai.requests[2:]]
        assert sizes == [6, 4, 2]  # system + 4, system + 2, system + the question alone
        # Nothing left to drop: ctrl+g says so instead of sending the same request again.
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: len(answers(app)) == 3, "the refused answer shown again")
        assert len(fake_openai.requests) == 5
        stored = services.repository.messages(app.chat_screen.session.id)
        assert stored[-1].error_kind == "context_length" and stored[-2].content == "the long one"


def drawn_text(view: AnswerView) -> str:
    """The text the answer's body shows: its blocks' content, not its source.

    ``Markdown.source`` changes as soon as ``append`` is called; the blocks appear
    only when the append has run, so this is what the user sees.
    """
    return "\n".join(
        str(block.content) for segment in view.segments for block in segment.query(MarkdownBlock)
    )


async def test_a_short_first_answer_stored_while_its_append_is_pending_is_drawn(
    services, fake_openai, monkeypatch
) -> None:
    # Seen once in the tmux e2e test on a cold start: the footer said the answer was
    # complete ("fake-model 12+34 tokens") but the body was empty. The flush timer had
    # handed the whole short answer to Markdown.append, and the answer was stored before
    # that append ran; finishing stopped the timer, which cancelled the pending append,
    # and the text counted as drawn never reached the screen. Here the append is held
    # until the answer is stored, which makes that interleaving certain.
    fake_openai.script(Reply(content="You asked: {question}", chunk_chars=1_000))
    stored = asyncio.Event()
    real_append = Markdown.append

    def held_append(self: Markdown, markdown: str) -> AwaitComplete:
        async def when_stored() -> None:
            await stored.wait()
            await real_append(self, markdown)

        return AwaitComplete(when_stored())

    real_finish = AnswerView.finish

    async def finish_after_the_timer_took_the_text(self: AnswerView, message) -> None:  # type: ignore[no-untyped-def]
        deadline = asyncio.get_running_loop().time() + 10
        while self.backlog or not self.streamed_text:
            assert asyncio.get_running_loop().time() < deadline, "the timer never flushed"
            await asyncio.sleep(0.005)
        stored.set()
        await real_finish(self, message)

    monkeypatch.setattr(Markdown, "append", held_append)
    monkeypatch.setattr(AnswerView, "finish", finish_after_the_timer_took_the_text)
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "first line")
        (view,) = answers(app)
        await until(
            pilot, lambda: "tokens" in str(view.query_one(".answer-status").content), "the footer"
        )
        await until(pilot, lambda: "You asked: first line" in drawn_text(view), "the answer drawn")
        assert markdown_source(view) == "You asked: first line"


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
