"""Image chips: the pending attachments above the prompt, and those of sent messages.

Why a module: the chat view, the prompt and the chat screen each need a piece of
this (a chip line under a sent message, a tray of removable chips before sending),
and keeping it here keeps those busy files to a line or two. Chips show the file's
name and size, made safe by ``Attachment.label``; the pictures themselves are in
the preview dialog (``v`` on a selected message, ``tui.screens.image_preview``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.widgets import Button

from chat_tui.domain.attachments import Attachment
from chat_tui.domain.models import Message

CHIP_MARK = "▣"


def chips_content(attachments: Sequence[Attachment]) -> Content:
    """One line of chips: ``▣ cat.png · 12.3 KB   ▣ plan.jpg · 1.2 MB``."""
    chips = [
        Content.assemble(Content.styled(f"{CHIP_MARK} ", "bold"), Content(a.label()))
        for a in attachments
    ]
    return Content("   ").join(chips)


def user_content(message: Message) -> Content:
    """A user turn as shown in the chat: its text, then its image chips, if any."""
    text = Content(message.content)
    if not message.attachments:
        return text
    return Content.assemble(text, "\n", chips_content(message.attachments).stylize("italic"))


class AttachmentChip(Button):
    """A pending attachment; pressing it (Enter, click) takes it off the message."""

    def __init__(self, attachment: Attachment) -> None:
        super().__init__(f"{CHIP_MARK} {attachment.label()}  ✕", compact=True, classes="chip")
        self.attachment = attachment
        self.tooltip = "Remove this image from the message"


class AttachmentTray(Horizontal):
    """The images that go with the next message, shown above the prompt while any."""

    DEFAULT_CSS = """
    AttachmentTray {
        height: auto;
        margin: 0 1;
        display: none;
    }
    AttachmentTray.-has-chips {
        display: block;
    }
    AttachmentTray .chip {
        margin: 0 1 0 0;
    }
    """

    class Changed(TextualMessage):
        """The pending attachments changed (added, removed, taken)."""

        def __init__(self, attachments: tuple[Attachment, ...]) -> None:
            super().__init__()
            self.attachments = attachments

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._pending: list[Attachment] = []

    @property
    def pending(self) -> tuple[Attachment, ...]:
        return tuple(self._pending)

    def compose(self) -> ComposeResult:
        yield from ()

    def add(self, attachments: Iterable[Attachment]) -> None:
        """Add images (an image already pending is not added twice)."""
        for attachment in attachments:
            if any(a.digest == attachment.digest for a in self._pending):
                continue
            self._pending.append(attachment)
            self.mount(AttachmentChip(attachment))
        self._changed()

    def discard(self, digests: Iterable[str]) -> None:
        """Take these images off the tray (an edit that brought them was cancelled)."""
        gone = set(digests)
        if not any(a.digest in gone for a in self._pending):
            return
        self._pending = [a for a in self._pending if a.digest not in gone]
        for chip in self.query(AttachmentChip):
            if chip.attachment.digest in gone:
                chip.remove()
        self._changed()

    def take(self) -> tuple[Attachment, ...]:
        """The pending images, and the tray emptied (the message is being sent)."""
        taken = self.pending
        if taken:
            self._pending.clear()
            self.remove_children()
            self._changed()
        return taken

    @on(AttachmentChip.Pressed)
    def _chip_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        chip = event.button
        if isinstance(chip, AttachmentChip):
            self.discard([chip.attachment.digest])

    def _changed(self) -> None:
        self.set_class(bool(self._pending), "-has-chips")
        self.post_message(self.Changed(self.pending))
