"""Messages the widgets post upwards (named in the past tense)."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message


class SessionSelected(Message):
    """The user picked a session in the sidebar."""

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id


class PromptSubmitted(Message):
    """The user pressed Enter in the prompt with some text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ImagePathPasted(Message):
    """A paste into the prompt was exactly one image file's path (a dropped file)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
