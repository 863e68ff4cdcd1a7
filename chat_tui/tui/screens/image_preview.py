"""The images of a message, drawn as half-block previews (``v`` on a selected message).

The chips under a message say which files went with it; this shows what they look
like. Each image is read from the blob store and decoded in a thread (Pillow, a few
milliseconds for a photo at preview size), so a large image never freezes the screen;
one whose file is gone or that cannot be decoded says so in its place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from chat_tui.domain.attachments import Attachment
from chat_tui.services.attachments import AttachmentService
from chat_tui.services.image_preview import Preview, PreviewError, half_block_preview

#: The preview box, in cells (the dialog shrinks it to fit a small terminal).
PREVIEW_COLUMNS = 64
PREVIEW_ROWS = 16


def preview_content(preview: Preview) -> Content:
    """The cells as text: ``▀`` in the upper pixel's colour on the lower pixel's."""
    lines: list[Content] = []
    for row in preview.rows:
        cells = [
            Content.styled("▀", f"rgb({t[0]},{t[1]},{t[2]}) on rgb({b[0]},{b[1]},{b[2]})")
            for t, b in row
        ]
        lines.append(Content("").join(cells))
    return Content("\n").join(lines)


class ImagePreviewScreen(ModalScreen[None]):
    """Previews of ``attachments``, one under the other with its chip label."""

    BINDINGS = [Binding("escape,v,q", "dismiss(None)", "Close", show=False)]

    def __init__(self, service: AttachmentService, attachments: Sequence[Attachment]) -> None:
        super().__init__(classes="dialog-screen")
        self.service = service
        self.attachments = tuple(attachments)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog image-preview"):
            count = len(self.attachments)
            title = "1 image" if count == 1 else f"{count} images"
            yield Label(Content.styled(title, "bold"), classes="dialog-title")
            with VerticalScroll(id="previews"):
                for number, attachment in enumerate(self.attachments):
                    yield Label(Content(f"▣ {attachment.label()}"), classes="preview-label")
                    yield Static(Content.styled("drawing…", "dim"), id=f"preview-{number}")
            yield Static(Content("Esc closes."), classes="dialog-hint")

    def on_mount(self) -> None:
        self.draw()

    @work(group="preview", exit_on_error=False)
    async def draw(self) -> None:
        columns = max(8, min(PREVIEW_COLUMNS, self.app.size.width - 12))
        rows = max(4, min(PREVIEW_ROWS, self.app.size.height - 12))
        for number, attachment in enumerate(self.attachments):
            shown = await asyncio.to_thread(self._picture, attachment, columns, rows)
            self.query_one(f"#preview-{number}", Static).update(shown)

    def _picture(self, attachment: Attachment, columns: int, rows: int) -> Content:
        data = self.service.blobs.read(attachment)
        if data is None:
            return Content.styled("The image file is not stored any more.", "$text-warning")
        try:
            return preview_content(half_block_preview(data, columns, rows))
        except PreviewError as error:
            return Content.styled(f"No preview: {error}.", "$text-warning")
