"""Regenerate ``screenshots/attachments.svg``: an answered image question, one image pending.

A script of its own so regenerating it leaves the other screenshots as they are. Runs
the App headless against the local fake OpenAI-compatible server, in a throw-away
data dir, with images made on the spot.

    python screenshots/make_attachment_screenshot.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from make_screenshots import open_screenshot_services  # noqa: E402 (this folder)

ANSWER = (
    "The chart shows **weekly active users** rising from about 1,200 to 3,400 between "
    "March and June, with a dip in the second week of May (the outage on the 9th).\n\n"
    "The second image is the same chart filtered to mobile: its curve is flatter, so "
    "most of the growth came from the web client."
)


async def main() -> None:
    from chat_tui.tui.app import make_app
    from chat_tui.tui.widgets.attachments import AttachmentChip
    from tests.support.fake_openai import FakeOpenAI, Reply
    from tests.support.images import write_png

    out = ROOT / "screenshots" / "attachments.svg"
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        home = Path(tmp)
        pictures = home / "Pictures"
        growth = write_png(pictures / "weekly-active-users.png", width=64, height=40)
        mobile = write_png(pictures / "wau mobile only.png", width=48, height=30, rgb=(9, 90, 9))
        pending = write_png(pictures / "retention-cohorts.png", width=20, height=20)
        services = open_screenshot_services(home, fake.url)
        fake.script(Reply(content=ANSWER, chunk_chars=40))
        app = make_app(services, check_setup=False)
        async with app.run_test(size=(130, 36)) as pilot:
            screen = app.chat_screen
            for path in (growth, mobile):
                await screen.images.pasted(path)
            prompt = app.query_one("#prompt")
            prompt.text = "What do these two charts say about growth?"
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await screen.images.pasted(pending)
            prompt.text = "And this one: are newer cohorts staying longer?"
            for _ in range(200):
                if len(app.query(AttachmentChip)) == 1 and not app._notifications:  # noqa: SLF001
                    break
                await pilot.pause(0.05)
            await pilot.pause(0.2)
            app.save_screenshot(str(out))
        await services.chat.aclose()
        services.close()
    print("wrote", out.relative_to(ROOT))


if __name__ == "__main__":
    asyncio.run(main())
