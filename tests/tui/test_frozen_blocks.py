"""Finished blocks of a streamed answer are drawn from captured lines (``frozen``).

The lines must be what the widgets drew: the same screen frozen and thawed, code still
highlighted, the whole source still in the answer, and a width change drawing the
widgets again.
"""

from __future__ import annotations

import re

import pytest
from textual.widget import Widget
from textual.widgets import Markdown

from chat_tui.tui.widgets.chat_view import FREEZE_BLOCKS, FREEZE_MAX_BLOCKS, AnswerView
from chat_tui.tui.widgets.frozen import FrozenBlocks, capture, laid_out
from tests.support.fake_openai import Reply
from tests.tui.conftest import answers, make_app, send, until

SECTION = """## Step {n}: parsing

The parser keeps a `dict` of **values** and a [link](https://example.com/{n}).

```python
def parse(lines: list[str]) -> dict[str, str]:
    return dict(line.partition("=")[::2] for line in lines)  # step {n}
```

- It skips blank lines.
- It never raises.

"""
ANSWER = "".join(SECTION.format(n=n) for n in range(12)) + "The end."


def screen_svg(app: object) -> str:
    """The screenshot without the ids Rich makes up for each export."""
    svg: str = app.export_screenshot()  # type: ignore[attr-defined]
    return re.sub(r"terminal-\d+", "terminal", svg)


def hidden_blocks(view: AnswerView) -> int:
    return sum(
        1
        for segment in view.segments
        for block in segment.children
        if not block.display or not segment.display
    )


@pytest.mark.parametrize("size", [(160, 45), (80, 24)])
async def test_frozen_lines_look_like_the_widgets_they_replace(
    services, fake_openai, size: tuple[int, int]
) -> None:
    fake_openai.script(Reply(content=ANSWER, chunk_chars=7, delay=0.001))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=size) as pilot:
        await send(pilot, "explain")
        view = answers(app)[-1]
        frozen = view.frozen
        assert frozen is not None and frozen.lines, "a long answer freezes"
        assert hidden_blocks(view) > 8
        # The answer's source is all there, in Markdown widgets, as before.
        assert all(isinstance(m, Markdown) for m in view.segments)
        assert "".join(m.source for m in view.segments) == ANSWER
        # Show frozen lines: the top of the answer (and no blinking cursor).
        app.screen.set_focus(None)
        app.chat_screen.chat_view.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        await pilot.pause()
        frozen_screen = screen_svg(app)
        assert "Step 0: parsing" in frozen.text
        frozen.post_message(FrozenBlocks.Outdated())
        await until(pilot, lambda: not frozen.lines, "thawed")
        assert hidden_blocks(view) == 0
        # Shown again, the widgets settle (lists lay out in two passes) to the same screen.
        await until(pilot, lambda: screen_svg(app) == frozen_screen, "thawed == frozen")


async def test_code_in_a_frozen_block_stays_highlighted(services, fake_openai) -> None:
    fake_openai.script(Reply(content=ANSWER, chunk_chars=7, delay=0.001))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "explain")
        frozen = answers(app)[-1].frozen
        assert frozen is not None
        line = next(line for line in frozen.lines if "def parse" in line.text)
        colours = {
            segment.style.color
            for segment in line
            if segment.style is not None and segment.style.color and segment.text.strip()
        }
        # Keywords, names, builtins and punctuation in their colours, not plain text.
        assert len(colours) >= 3


async def test_a_new_width_shows_the_widgets_and_freezes_again_while_streaming(
    services, fake_openai
) -> None:
    fake_openai.script(Reply(content=ANSWER * 2, chunk_chars=7, delay=0.002))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#prompt").text = "explain"
        await pilot.press("enter")
        await until(
            pilot,
            lambda: bool(answers(app)) and bool((f := answers(app)[-1].frozen) and f.lines),
            "frozen while streaming",
        )
        view = answers(app)[-1]
        frozen = view.frozen
        assert frozen is not None
        wide = frozen.drawn_width
        await pilot.resize_terminal(90, 30)
        await until(pilot, lambda: frozen.lines == [] or frozen.drawn_width != wide, "thawed")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "".join(m.source for m in view.segments) == ANSWER * 2
        # Streaming went on at the new width, so the blocks froze again, at that width.
        assert frozen.lines and frozen.drawn_width != wide
        assert frozen.drawn_width == view.segments[-1].size.width


async def test_a_short_answer_is_not_frozen(services, fake_openai) -> None:
    fake_openai.script(Reply(content=SECTION.format(n=1), chunk_chars=7))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "explain")
        view = answers(app)[-1]
        assert view.frozen is None and hidden_blocks(view) == 0


async def test_the_message_cursor_on_a_frozen_answer_shows_its_widgets(
    services, fake_openai
) -> None:
    # The lines carry the background they were drawn on; a selected answer has another.
    fake_openai.script(Reply(content=ANSWER, chunk_chars=7, delay=0.001))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "explain")
        view = answers(app)[-1]
        frozen = view.frozen
        assert frozen is not None and frozen.lines
        app.chat_screen.chat_view.scroll_home(animate=False, immediate=True)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: view.has_class("-selected"), "the answer selected")
        await until(pilot, lambda: not frozen.lines, "widgets shown again")
        assert hidden_blocks(view) == 0


def live_blocks(view: AnswerView) -> list[Widget]:
    return [block for segment in view.segments for block in segment.children if block.display]


async def test_a_freeze_waits_for_a_layout_without_the_blocks_it_hid(services, fake_openai) -> None:
    # Textual's Markdown.append holds a batch update across awaits; while it is open,
    # callbacks meant for "after the next refresh" run with no layout in between, and a
    # second freeze read the regions of the first one's blocks, hidden but not laid out
    # again: blank rows where they had been, in the middle of the answer.
    fake_openai.script(Reply(content=ANSWER, chunk_chars=7, delay=0.001))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "explain")
        view = answers(app)[-1]
        frozen = view.frozen
        assert frozen is not None and frozen.lines
        assert len(view.segments) == 1, "the answer fits one segment"
        segment = view.segments[0]
        frozen.post_message(FrozenBlocks.Outdated())
        await until(pilot, lambda: not frozen.lines, "thawed")
        blocks = list(segment.children)
        await until(pilot, lambda: all(laid_out(b) for b in blocks), "all blocks laid out")
        assert len(blocks) > 2 * FREEZE_MAX_BLOCKS + FREEZE_BLOCKS
        # What the widgets draw, and where each block's rows start, before any freeze.
        top = segment.region.y
        starts = [b.region.y - b.styles.margin.top - top for b in blocks]
        drawn = capture(segment, blocks[:-1], starts[-1])
        assert drawn is not None
        expected = [line.text.rstrip() for line in drawn]

        with app.batch_update():  # as Markdown.append leaves it while it awaits
            await view.freeze()
            await view.freeze()
        await until(
            pilot,
            lambda: (
                not view.freeze_pending
                and all(laid_out(b) is None for b in blocks if not b.display)
            ),
            "the freezes done and laid out",
        )
        hidden = sum(1 for b in blocks if not b.display)
        assert hidden >= 2 * FREEZE_MAX_BLOCKS
        # The lines are the hidden blocks' rows, in order, and nothing else.
        assert frozen.text.split("\n") == expected[: starts[hidden]]
        # The live blocks follow the frozen lines with no gap.
        first_live = live_blocks(view)[0]
        assert first_live is blocks[hidden]
        region = laid_out(frozen)
        assert region is not None
        assert first_live.region.y - first_live.styles.margin.top == region.bottom
