"""The "attach an image" dialog: a path with shell-like Tab completion.

Why a screen of its own: typing a path wants completion (Tab extends to what the
matches share and lists them, as a shell does), a wrong path wants its reason in
the dialog without losing what was typed, and the chat screen only wants the stored
attachment back. Listing folders and storing the image run off the event loop.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from chat_tui.domain.attachments import Attachment
from chat_tui.domain.text import clean_line
from chat_tui.errors import ChatTuiError
from chat_tui.services.attachments import AttachmentService, complete_path

#: Names listed under the input after a Tab (the rest are counted).
SHOWN_CANDIDATES = 8
HINT = "Tab completes · Enter attaches · Esc cancels"


class PathInput(Input):
    """The path field: Tab completes instead of moving the focus.

    Bound here, not as a priority binding of the screen: a priority binding runs when
    the App reads the key, before the field has taken the letters typed just before
    it, so a fast "ho<Tab>" completed what was there before "ho".
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "screen.complete", "Complete", show=False),
    ]


class AttachScreen(ModalScreen[Attachment | None]):
    """Ask for an image path; dismissed with the stored attachment, or None.

    Args:
        attachments: the attachment service that stores the image.
        start: the text the input opens with (e.g. the home folder).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", show=False),
    ]

    def __init__(self, attachments: AttachmentService, start: str = "~/") -> None:
        super().__init__(classes="dialog-screen", id="attach-screen")
        self.attachments = attachments
        self.start = start
        #: What the last Tab put in the field: its own change keeps the list shown.
        self._completed: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog attach"):
            yield Label("Attach an image (PNG, JPEG, GIF, WebP)", classes="dialog-title")
            # Not selected on focus: what is typed goes after "~/", as in a shell.
            yield PathInput(
                self.start, placeholder="path to an image", id="attach-path", select_on_focus=False
            )
            yield Static("", id="attach-candidates")
            # The hint appears with the input's focus: from then on, typing lands in it.
            yield Static("", classes="dialog-hint", id="attach-hint")

    def on_mount(self) -> None:
        self.path_input.cursor_position = len(self.start)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget is self.path_input:
            self._say("")

    @property
    def path_input(self) -> Input:
        return self.query_one("#attach-path", Input)

    def _say(self, text: str, *, error: bool = False) -> None:
        hint = self.query_one("#attach-hint", Static)
        hint.update(Content(clean_line(text)) if text else HINT)
        hint.set_class(error, "error")

    async def action_complete(self) -> None:
        field = self.path_input
        typed = field.value
        completed, names = await asyncio.to_thread(complete_path, typed)
        if field.value != typed:
            return  # typed on meanwhile: the next Tab completes that
        self._completed = completed
        field.value = completed
        field.cursor_position = len(completed)
        shown = [clean_line(name) for name in names[:SHOWN_CANDIDATES]]
        if len(names) > SHOWN_CANDIDATES:
            shown.append(f"… {len(names) - SHOWN_CANDIDATES} more")
        listing = self.query_one("#attach-candidates", Static)
        listing.update(Content("   ".join(shown)) if len(names) > 1 else "")
        self._say("" if names else "No match.", error=not names)

    @on(Input.Changed, "#attach-path")
    def _typed(self, event: Input.Changed) -> None:
        self._say("")
        if event.value != self._completed:
            self.query_one("#attach-candidates", Static).update("")  # typed on: stale

    @on(Input.Submitted, "#attach-path")
    async def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        if not path:
            self.dismiss(None)
            return
        try:
            attachment = await self.attachments.attach(path)
        except ChatTuiError as error:
            self._say(str(error), error=True)  # the path stays, to be corrected
            return
        self.dismiss(attachment)
