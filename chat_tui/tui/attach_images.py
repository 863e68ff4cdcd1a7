"""The chat screen's image attaching: the ctrl+t dialog, pasted paths, the pending tray.

Why a helper: the chat screen owns the action but is already large; this object
holds what attaching needs (the tray, the attachment service, notifications) and the
screen calls it in a line per event, the way it uses ``AnswerSources`` and
``SessionDialogs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from chat_tui.domain.attachments import Attachment
from chat_tui.errors import ChatTuiError
from chat_tui.tui.host import ActionHost
from chat_tui.tui.screens.attach import AttachScreen
from chat_tui.tui.widgets.attachments import AttachmentTray


class AttachHost(ActionHost, Protocol):
    """What attaching needs from the chat screen."""

    @property
    def tray(self) -> AttachmentTray: ...


class ImageAttacher:
    """Adds images to the next message and hands them over when it is sent.

    Args:
        host: the chat screen.
    """

    def __init__(self, host: AttachHost) -> None:
        self.host = host

    async def pick(self) -> None:
        """Open the path dialog; the stored image joins the pending ones."""
        service = self.host.services.chat.attachments
        attachment = await self.host.app.push_screen_wait(AttachScreen(service))
        if attachment is not None:
            self.host.tray.add([attachment])

    async def pasted(self, path: Path) -> None:
        """A pasted (dropped) image file: stored and added, or its reason in one line."""
        try:
            attachment = await self.host.services.chat.attachments.attach(path)
        except ChatTuiError as error:
            self.host.notify(str(error), severity="error", timeout=6)
            return
        self.host.tray.add([attachment])
        self.host.notify(f"Attached {attachment.label()}", timeout=2)

    def take(self) -> tuple[Attachment, ...]:
        """The pending images for the message being sent (the tray empties)."""
        return self.host.tray.take()

    def restore(self, attachments: Sequence[Attachment]) -> None:
        """Put images of a message that was not sent back on the tray."""
        if attachments:
            self.host.tray.add(attachments)
