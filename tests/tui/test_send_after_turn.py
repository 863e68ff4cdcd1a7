"""A question sent while the finished turn tidies up is sent, not refused.

Once an answer is stored and drawn, the turn still re-reads its session and redraws the
sidebar. Seen in tmux: Enter pressed in that moment (the answer's footer already on
screen) was refused with "An answer is still streaming", though nothing was streaming.
The hooks below press Enter exactly then: inside the turn's own sidebar redraw that
follows the stored answer, while the ``llm`` worker is still running.
"""

from __future__ import annotations

from chat_tui.tui.messages import PromptSubmitted
from chat_tui.tui.widgets.prompt import PromptInput
from tests.support.fake_openai import Reply
from tests.tui.conftest import answers, make_app, notifications, until


def _press_enter_while_tidying(app, pilot, text: str, *, then_stop: bool = False):  # type: ignore[no-untyped-def]
    """Make the screen's next sidebar redraw after a stored answer submit ``text``."""
    screen = app.screen
    redraw = screen.refresh_sidebar
    seen: list[bool] = []

    def refresh_sidebar() -> None:
        redraw()
        if screen.answer_saved and screen.streaming and not seen:
            seen.append(True)
            # What Enter in the prompt posts, handled now, inside the window.
            screen._prompt_submitted(PromptSubmitted(text))
            if then_stop:
                screen.action_stop_answer()

    screen.refresh_sidebar = refresh_sidebar
    return seen


async def test_a_question_sent_while_the_turn_tidies_up_is_sent_after_it(
    services, fake_openai
) -> None:
    fake_openai.script(Reply(content="Paris."), Reply(content="About 2.1 million."))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        seen = _press_enter_while_tidying(app, pilot, "How many people live there?")
        prompt = app.screen.query_one("#prompt", PromptInput)
        prompt.focus()
        prompt.text = "What is the capital of France?"
        await pilot.press("enter")
        await until(pilot, lambda: len(fake_openai.requests) == 2, "the second request")
        await until(
            pilot,
            lambda: len(answers(app)) == 2 and answers(app)[1].message is not None,
            "the second answer stored",
        )
        await app.workers.wait_for_complete()
        assert seen == [True]  # Enter really came in the tidy-up window
        assert not [n for n in notifications(app, "warning") if "streaming" in n]
        second = fake_openai.requests[1]["messages"]
        assert second[-1]["content"] == "How many people live there?"
        assert second[-2]["content"] == "Paris."
        assert answers(app)[1].message.content == "About 2.1 million."


async def test_stopped_while_tidying_up_the_waiting_question_goes_back_to_the_prompt(
    services, fake_openai
) -> None:
    fake_openai.script(Reply(content="Paris."), Reply(content="unused"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        seen = _press_enter_while_tidying(
            app, pilot, "How many people live there?", then_stop=True
        )
        prompt = app.screen.query_one("#prompt", PromptInput)
        prompt.focus()
        prompt.text = "What is the capital of France?"
        await pilot.press("enter")
        await until(pilot, lambda: bool(seen), "Enter pressed while tidying up")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: prompt.text == "How many people live there?", "text back")
        assert len(fake_openai.requests) == 1
