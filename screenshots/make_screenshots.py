"""Regenerate the README screenshots from the real app.

Runs the App headless against the local fake OpenAI-compatible server used by the
tests, in a throw-away data dir, and saves SVGs of: the main screen mid-answer
with a code block, the role picker, the help screen, and an answer with its
sources at 80x24; and the history search (ctrl+f) over sessions of three roles.

    python screenshots/make_screenshots.py           # all of them
    python screenshots/make_screenshots.py search    # only search.svg
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from chat_tui.services.bootstrap import AppServices

ANSWER = """Here is a small, tested way to read a TOML config with defaults:

```python
import tomllib
from pathlib import Path

def load(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
```

Call `load(Path("config.toml"))` and merge the result over your defaults. The part
that still streams in right now explains the error handling in more detail...
"""


def open_screenshot_services(home: Path, base_url: str) -> AppServices:
    """The app's services in a throw-away ``home``, the openai profile pointed at the
    local fake server (every screenshot script starts from these)."""
    from chat_tui.config import load_settings
    from chat_tui.services.bootstrap import open_services

    settings = load_settings(
        config_file=home / "config.toml",
        env={"OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "sk-screenshot"},
        model="gpt-4o-mini",
        data_dir=home / "data",
    )
    return open_services(settings, context=None)


async def main() -> None:
    from chat_tui.domain.models import Citation, Message
    from chat_tui.tui.app import make_app
    from tests.support.fake_openai import FakeOpenAI, Reply

    out = ROOT / "screenshots"
    gate = threading.Event()
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        home = Path(tmp)
        services = open_screenshot_services(home, fake.url)
        repo = services.repository
        for role, titles in {
            "assistant": ["Weekend trip to Kyoto", "Sourdough starter help"],
            "teacher": ["Why is the sky blue?", "Fourier series, gently"],
            "programmer": ["asyncio vs threads"],
        }.items():
            for title in titles:
                session = repo.create_session(role, title)
                repo.update_session(session.__class__(**{**session.to_dict(), "titled": True}))
                repo.append_message(Message(session_id=session.id, role="user", content=title))
                repo.append_message(Message(session_id=session.id, role="assistant", content="…"))
        handbook = repo.create_session("assistant", "On-call questions")
        repo.update_session(handbook.__class__(**{**handbook.to_dict(), "titled": True}))
        repo.append_message(
            Message(
                session_id=handbook.id,
                role="user",
                content="When does the on-call rotation change, and who gets paged first?",
            )
        )
        repo.append_message(
            Message(
                session_id=handbook.id,
                role="assistant",
                model="gpt-4o-mini",
                content=(
                    "According to your handbook, the **on-call rotation changes every "
                    "Tuesday at 09:00** [1].\n\n"
                    "Pages go to the *primary* first; if nobody acknowledges within "
                    "**ten minutes**, "
                    "the secondary is paged [1]. Escalation contacts are listed in the runbook [2]."
                ),
                citations=(
                    Citation(
                        source="/home/ana/handbook/team.md",
                        heading="Team handbook > On-call",
                        line_start=3,
                        line_end=9,
                        score=0.91,
                    ),
                    Citation(source="/home/ana/handbook/runbook.pdf", page=4, score=0.62),
                ),
            )
        )
        cut = ANSWER.index("The part")
        fake.script(Reply(content=ANSWER, chunk_chars=6, hold=gate, hold_after=cut // 6))
        app = make_app(services, check_setup=False)
        async with app.run_test(size=(130, 36)) as pilot:
            await pilot.press("alt+3")
            await pilot.press("ctrl+n")
            await pilot.pause()
            app.query_one(
                "#prompt"
            ).text = "How do I load a TOML config file with defaults in Python?"
            await pilot.press("enter")
            for _ in range(500):
                views = list(app.chat_screen.chat_view.query("AnswerView"))
                if views and "```\n" in views[-1].streamed_text.split("```python", 1)[-1]:
                    break
                await pilot.pause(0.02)
            await pilot.pause(0.2)
            app.save_screenshot(str(out / "main.svg"))
            gate.set()
            await app.workers.wait_for_complete()
            await pilot.press("ctrl+r")
            await pilot.pause(0.2)
            app.save_screenshot(str(out / "role-picker.svg"))
            await pilot.press("escape")
            await pilot.press("alt+1")
            await pilot.pause(0.3)
            app.save_screenshot(str(out / "sources.svg"))
            await pilot.press("f1")
            await pilot.pause(0.2)
            app.save_screenshot(str(out / "help.svg"))
        # A classic 80x24 terminal: the sidebar hides itself, the chat keeps the width.
        app = make_app(services, check_setup=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await app.chat_screen.history_shown()
            await pilot.press("alt+1")
            await app.chat_screen.history_shown()
            await pilot.pause(0.3)
            for _ in range(300):  # let the "Role" notification go
                if not app._notifications:  # noqa: SLF001 - screenshot script, not app code
                    break
                await pilot.pause(0.05)
            app.save_screenshot(str(out / "small-80x24.svg"))
        services.close()
    print("wrote", ", ".join(str(p.relative_to(ROOT)) for p in sorted(out.glob("*.svg"))))


SEARCHED = {
    "programmer": [
        ("Config loading", "How do I load a TOML config with defaults in Python?"),
        ("Packaging notes", "Should the config file live in pyproject.toml or a separate TOML?"),
    ],
    "teacher": [("配置文件", "TOML 配置文件和 JSON 有什么区别？")],
    "assistant": [
        ("Weekend trip to Kyoto", "Plan two days in Kyoto; I wrote my list in a TOML-like format."),
        ("Café résumé", "Rewrite my résumé intro for a café manager job."),
    ],
}


async def search_screenshot() -> None:
    """``search.svg``: ctrl+f with a query typed, matches from three roles highlighted."""
    from chat_tui.domain.models import Message
    from chat_tui.tui.app import make_app
    from tests.support.fake_openai import FakeOpenAI

    out = ROOT / "screenshots"
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        home = Path(tmp)
        services = open_screenshot_services(home, fake.url)
        repo = services.repository
        for role, chats in SEARCHED.items():
            for title, question in chats:
                session = repo.create_session(role, title)
                stored = session.__class__(**{**session.to_dict(), "titled": True})
                repo.update_session(stored)
                repo.append_message(Message(session_id=session.id, role="user", content=question))
                repo.append_message(
                    Message(session_id=session.id, role="assistant", content="Sure: ...")
                )
        app = make_app(services, check_setup=False)
        async with app.run_test(size=(130, 36)) as pilot:
            await app.chat_screen.history_shown()
            await pilot.press("ctrl+f")
            await pilot.pause(0.2)
            await pilot.press(*"toml config")
            for _ in range(300):
                results = getattr(app.screen, "results", None)
                if results is not None and results.query == "toml config":
                    break
                await pilot.pause(0.02)
            await pilot.pause(0.3)
            app.save_screenshot(str(out / "search.svg"))
        services.close()
    print("wrote screenshots/search.svg")


if __name__ == "__main__":
    if sys.argv[1:] == ["search"]:
        asyncio.run(search_screenshot())
    else:
        asyncio.run(main())
        asyncio.run(search_screenshot())
