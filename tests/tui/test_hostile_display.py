"""Text from outside never acts on the terminal: titles, sources, notices, pickers.

Each hostile string is stored or raised the way a user would meet it (a session title
typed or pasted, a document's heading and file name in a stored citation, a server's
error text in a notification), then the whole screen is exported and checked for raw
control characters. The names must still be recognisable: controls are shown as
``\\xNN``.
"""

from __future__ import annotations

from chat_tui.domain.models import Citation, Message
from chat_tui.tui.app import ChatApp, make_app
from chat_tui.tui.widgets.sidebar import SessionSidebar

OSC_TITLE = "\x1b]0;PWN\x07"
CLEAR = "\x1b[2J"
HOSTILE = [OSC_TITLE, CLEAR, "\x9b31m", "\u202e", "\x08", "\r"]


def raw_controls(text: str) -> list[str]:
    """Control characters a terminal would act on (the SVG keeps its own newlines)."""
    bad = {chr(c) for c in range(0x20) if chr(c) not in "\n\t"} | {
        chr(c) for c in range(0x7F, 0xA0)
    }
    bad |= set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    return sorted({ch for ch in text if ch in bad})


async def test_hostile_title_citation_and_error_reach_the_screen_only_as_visible_text(
    services, fake_openai
) -> None:
    repo = services.repository
    session = repo.create_session("assistant", f"title {OSC_TITLE}{CLEAR} end")
    repo.append_message(Message(session_id=session.id, role="user", content="q"))
    repo.append_message(
        Message(
            session_id=session.id,
            role="assistant",
            content="answer",
            citations=(
                Citation(
                    source=f"/docs/evil{OSC_TITLE}.md",
                    heading=f"Intro {CLEAR}\x9b31m\u202e",
                    line_start=1,
                    line_end=2,
                ),
            ),
        )
    )
    app: ChatApp = make_app(services, check_setup=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await app.chat_screen.history_shown()
        await pilot.pause()
        app.notify(f"server said {OSC_TITLE} and {CLEAR}\x08\r", title=f"t{OSC_TITLE}")
        await pilot.pause()
        screen = app.export_screenshot()
        assert raw_controls(screen) == []
        # Still recognisable: the sequences are shown, not dropped.
        assert "\\x1b]0;PWN\\x07" in screen
        sidebar_text = "".join(
            str(option.prompt) for option in app.query_one(SessionSidebar).options
        )
        assert "\\x1b" in sidebar_text and "\x1b" not in sidebar_text


def test_a_citation_label_is_safe_whatever_was_stored() -> None:
    for hostile in HOSTILE:
        label = Citation(source=f"a{hostile}b.md", heading=f"h{hostile}").label()
        assert raw_controls(label) == [], repr(label)
        assert label.startswith("a") and "b.md > h" in label
