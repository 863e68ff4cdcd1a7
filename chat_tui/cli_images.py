"""``chat-tui ask --image``: the images a question carries, stored before it is asked.

Why a module: the CLI checks every image before anything is sent or a session is
made, so a typo in a path costs nothing; the rule is one call to the attachment
service, kept out of the busy ``cli.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from chat_tui.cli_support import fail
from chat_tui.errors import ChatTuiError

if TYPE_CHECKING:
    from chat_tui.domain.attachments import Attachment
    from chat_tui.services.bootstrap import AppServices


def attach_images(services: AppServices, paths: Iterable[Path]) -> tuple[Attachment, ...]:
    """Store each image; a bad one ends the command with its one-line reason (exit 1)."""
    attached: list[Attachment] = []
    for path in paths:
        try:
            attached.append(services.chat.attachments.attach_now(path))
        except ChatTuiError as error:
            fail(str(error), 1)
    return tuple(attached)
