"""Regenerate the screenshots of edit-and-branch (issue 11.3) from the real app.

Its own script, so making these does not redraw the other screenshots
(``make_screenshots.py``). Runs the App headless against the tests' local fake
OpenAI-compatible server in a throw-away data dir, and saves:

- ``branch-edit.svg``: an earlier question being edited in the prompt (e after ctrl+o);
- ``branch.svg``: after Enter, the edited question with its "‹ 2/2 ›" line, selected.

    python screenshots/make_branch_screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from make_screenshots import open_screenshot_services  # noqa: E402 (this folder)


async def main() -> None:
    from chat_tui.tui.app import make_app
    from tests.support.fake_openai import FakeOpenAI, Reply

    out = ROOT / "screenshots"
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        home = Path(tmp)
        services = open_screenshot_services(home, fake.url)
        fake.script(
            Reply(content="Kyoto in **autumn** (mid-November) is at its most colourful."),
            Reply(
                content="For a weekend, stay near **Gion**: walk to Yasaka Shrine and "
                "Kiyomizu-dera in the morning, the Philosopher's Path after lunch."
            ),
            Reply(
                content="With two days and a rail pass: **Arashiyama** on the first "
                "morning (bamboo grove, Tenryu-ji), then **Nara** by train on the "
                "second, back for dinner in Pontocho."
            ),
        )
        app = make_app(services, check_setup=False)
        async with app.run_test(size=(130, 36)) as pilot:
            await app.chat_screen.history_shown()
            prompt = app.chat_screen.prompt
            for question in (
                "When is the best time to visit Kyoto?",
                "Plan a weekend there for me",
            ):
                prompt.text = question
                await pilot.press("enter")
                await pilot.pause()
                await app.workers.wait_for_complete()
            await pilot.press("ctrl+o", "up", "e")
            prompt.text = "Plan a weekend there for me, with a day trip by train"
            prompt.move_cursor(prompt.document.end)
            await pilot.pause(0.3)
            app.save_screenshot(str(out / "branch-edit.svg"))
            await pilot.press("enter")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("ctrl+o", "up")
            await pilot.pause(0.3)
            for _ in range(300):  # let the notifications go
                if not app._notifications:  # noqa: SLF001 - screenshot script, not app code
                    break
                await pilot.pause(0.05)
            app.save_screenshot(str(out / "branch.svg"))
        services.close()
    print("wrote screenshots/branch-edit.svg, screenshots/branch.svg")


if __name__ == "__main__":
    asyncio.run(main())
