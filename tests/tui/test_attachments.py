"""Attaching images in the TUI: ctrl+t with Tab completion, pasted paths, chips, sending."""

from __future__ import annotations

import base64
from pathlib import Path

from textual import events
from textual.widgets import Input

from chat_tui.tui.screens.attach import AttachScreen
from chat_tui.tui.widgets.attachments import AttachmentChip, AttachmentTray
from chat_tui.tui.widgets.chat_view import UserMessage
from chat_tui.tui.widgets.prompt import PromptInput
from tests.support.fake_openai import Reply
from tests.support.images import write_png
from tests.tui.conftest import make_app, notifications, reopen, send, until


def chips(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(chip.label) for chip in app.query(AttachmentChip)]


async def test_ctrl_t_completes_a_path_attaches_and_sends_the_image(
    services, fake_openai, tmp_path: Path, isolated_home: Path
) -> None:
    picture = write_png(tmp_path / "pictures" / "holiday photo.png")
    (tmp_path / "pictures" / "notes.txt").write_text("x", encoding="utf-8")
    fake_openai.script(Reply(content="A red square."))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, AttachScreen), "the attach dialog")
        field = app.screen.query_one("#attach-path", Input)
        field.value = str(tmp_path / "pic")
        await pilot.press("tab")
        await until(pilot, lambda: field.value.endswith("pictures/"), "folder completed")
        field.value += "h"
        await pilot.press("tab")
        await until(pilot, lambda: field.value == str(picture), "file completed")
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, AttachScreen), "dialog closed")
        await until(pilot, lambda: len(chips(app)) == 1, "a chip above the prompt")
        assert chips(app)[0].startswith("▣ holiday photo.png · ")
        assert app.query_one(AttachmentTray).display
        await send(pilot, "What is in it?")
        assert chips(app) == [] and not app.query_one(AttachmentTray).display
        bubble = str(app.query_one(UserMessage).render())
        assert bubble.startswith("What is in it?\n▣ holiday photo.png · ")
        parts = fake_openai.requests[0]["messages"][-1]["content"]
        url = "data:image/png;base64," + base64.b64encode(picture.read_bytes()).decode()
        assert parts[1] == {"type": "image_url", "image_url": {"url": url}}
    # After a restart, with the original file gone, the chip is still in the history.
    picture.unlink()
    again = reopen(fake_openai, isolated_home)
    app = make_app(again, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: bool(app.query(UserMessage)), "history shown")
        assert "▣ holiday photo.png" in str(app.query_one(UserMessage).render())
    await again.chat.aclose()
    again.close()


async def test_a_wrong_path_is_said_in_the_dialog_and_kept_to_correct(
    services, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("not an image", encoding="utf-8")
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, AttachScreen), "the attach dialog")
        field = app.screen.query_one("#attach-path", Input)
        field.value = str(notes)
        await pilot.press("enter")
        hint = app.screen.query_one("#attach-hint")
        await until(pilot, lambda: "not a PNG" in str(hint.render()), "the reason shown")
        assert isinstance(app.screen, AttachScreen) and field.value == str(notes)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, AttachScreen), "dialog closed")
        assert chips(app) == []


async def test_a_pasted_image_path_attaches_and_other_pastes_stay_text(
    services, fake_openai, tmp_path: Path
) -> None:
    picture = write_png(tmp_path / "my cat.png")
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        escaped = str(picture).replace(" ", "\\ ")
        # Posted to the App, as the driver does; the App hands it to the focused prompt.
        app.post_message(events.Paste(escaped))  # as GNOME Terminal pastes a dropped file
        await until(pilot, lambda: len(chips(app)) == 1, "the pasted image attached")
        assert prompt.text == ""
        await until(
            pilot,
            lambda: any("Attached my cat.png" in n for n in notifications(app)),
            "the attached notice",
        )
        app.post_message(events.Paste(f"file://{picture.as_posix().replace(' ', '%20')}"))
        await until(pilot, lambda: len(notifications(app)) == 2, "attached again")
        assert len(chips(app)) == 1  # the same image is not pending twice
        app.post_message(events.Paste(f"look at {picture}"))
        await until(pilot, lambda: prompt.text == f"look at {picture}", "pasted as text")
        # A chip is removable: pressing it (Enter on it) takes the image off.
        chip = app.query_one(AttachmentChip)
        chip.focus()
        await pilot.press("enter")
        await until(pilot, lambda: chips(app) == [], "chip removed")


async def test_a_hostile_image_name_in_history_is_shown_inert(services) -> None:
    from chat_tui.domain.attachments import Attachment
    from chat_tui.domain.models import Message

    session = services.repository.create_session("assistant")
    name = "\x1b]0;owned\x07evil\x1b[2J\n.png"
    image = Attachment("ef" * 32, name, "image/png", 99)
    services.repository.append_message(
        Message(session_id=session.id, role="user", content="see", attachments=(image,))
    )
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: bool(app.query(UserMessage)), "history shown")
        shown = str(app.query_one(UserMessage).render())
        assert "\x1b" not in shown and "\x07" not in shown
        assert shown.splitlines()[1].startswith("▣ \\x1b]0;owned\\x07evil")


async def test_v_previews_the_selected_messages_images_and_says_when_one_is_gone(
    services, fake_openai, tmp_path: Path
) -> None:
    from textual.widgets import Static

    from chat_tui.tui.screens.image_preview import ImagePreviewScreen

    red = await services.chat.attachments.attach(
        write_png(tmp_path / "red.png", width=32, height=16, rgb=(200, 30, 30))
    )
    gone = await services.chat.attachments.attach(write_png(tmp_path / "gone.png", rgb=(1, 2, 3)))
    session = services.repository.create_session("assistant")
    fake_openai.script(Reply(content="Two images."))

    async def ignore(_event: object) -> None:
        return None

    await services.chat.send(session.id, "Look", ignore, attachments=[red, gone])
    services.chat.attachments.blobs.path_for(gone.digest).unlink()
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: bool(app.query(UserMessage)), "history shown")
        await pilot.press("ctrl+o", "up", "v")
        await until(pilot, lambda: isinstance(app.screen, ImagePreviewScreen), "the previews")
        screen = app.screen

        def drawn(number: int) -> str:
            return str(screen.query_one(f"#preview-{number}", Static).render())

        await until(pilot, lambda: "▀" in drawn(0) and "drawing" not in drawn(1), "drawn")
        assert drawn(0).splitlines() == ["▀" * 32] * 8  # 32x16 px: 32 cells x 8 rows
        assert "not stored any more" in drawn(1)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ImagePreviewScreen), "closed")
        # On the answer below (no images), v says what to select instead.
        await pilot.press("down", "v")
        await until(
            pilot,
            lambda: any("with images" in n for n in notifications(app, "warning")),
            "the hint",
        )


async def test_editing_a_question_keeps_its_images_and_a_cancel_takes_them_off(
    services, fake_openai, tmp_path: Path
) -> None:
    picture = write_png(tmp_path / "chart.png", width=8, height=8)
    attachment = await services.chat.attachments.attach(picture)
    session = services.repository.create_session("assistant")
    fake_openai.script(Reply(content="A chart."), Reply(content="Still a chart."))

    async def ignore(_event: object) -> None:
        return None

    await services.chat.send(session.id, "Read this", ignore, attachments=[attachment])
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: bool(app.query(UserMessage)), "history shown")
        await pilot.press("ctrl+o", "up", "e")
        await until(pilot, lambda: chips(app) != [], "the question's image on the tray")
        assert chips(app)[0].startswith("▣ chart.png")
        await pilot.press("escape")  # cancel: the prompt empties and the image goes
        await until(pilot, lambda: chips(app) == [], "the tray emptied")
        await pilot.press("ctrl+o", "up", "e")
        await until(pilot, lambda: chips(app) != [], "the image again")
        prompt = app.query_one(PromptInput)
        prompt.text = "Read this one, carefully"
        await pilot.press("enter")
        await until(pilot, lambda: len(fake_openai.requests) == 2, "the edited version sent")
        await app.workers.wait_for_complete()
        parts = fake_openai.requests[1]["messages"][-1]["content"]
        assert parts[0] == {"type": "text", "text": "Read this one, carefully"}
        assert [p["type"] for p in parts[1:]] == ["image_url"]
        versions = [m for m in services.repository.messages(session.id) if m.role == "user"]
        assert [m.attachments for m in versions] == [(attachment,), (attachment,)]
