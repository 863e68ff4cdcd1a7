"""Attaching images: one service for the TUI and ``chat-tui ask --image``.

Why: both front ends turn a path the user gave into a stored
:class:`~chat_tui.domain.attachments.Attachment` (off the event loop), complete a
path being typed, tell a pasted image path from pasted text, and hand the chat
service the ``data:`` URL of a stored image. The rules live in
``domain.attachments`` and the files in ``storage.blobs``; this module only puts
them together, with every file access in a thread.
"""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

from chat_tui.domain.attachments import Attachment, looks_like_image_name, pasted_path
from chat_tui.domain.text import clean_line
from chat_tui.storage.blobs import AttachmentError, BlobStore

#: At most this many names are offered while completing a path.
MAX_CANDIDATES = 200


class AttachmentService:
    """Stores and reads attached images.

    Args:
        blobs: the content-addressed store under the data dir.
    """

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs

    async def attach(self, path: str | Path) -> Attachment:
        """Store the image at ``path`` (``~`` expanded) and describe it.

        Raises:
            AttachmentError: one line: missing, a folder, too large, not an image.
        """
        return await asyncio.to_thread(self.attach_now, path)

    def attach_now(self, path: str | Path) -> Attachment:
        """``attach`` for a caller with no event loop (the CLI); blocking."""
        return self.blobs.add_file(Path(os.path.expanduser(str(path))))

    def data_url(self, attachment: Attachment) -> str | None:
        """The image as a ``data:`` URL, or None when its blob is gone (blocking)."""
        data = self.blobs.read(attachment)
        if data is None:
            return None
        return f"data:{attachment.media_type};base64,{base64.b64encode(data).decode('ascii')}"

    def exists(self, attachment: Attachment) -> bool:
        """Whether the blob is still on disk (blocking, cheap: one stat)."""
        try:
            return self.blobs.path_for(attachment.digest).is_file()
        except AttachmentError:
            return False


def pasted_image_path(text: str) -> Path | None:
    """The image file a paste names (a dropped file), or None when the paste is text.

    Cheap enough for a paste handler: one ``stat``, no read; the store checks the
    content when the file is attached.
    """
    found = pasted_path(text)
    if found is None or not looks_like_image_name(found):
        return None
    path = Path(os.path.expanduser(found))
    try:
        return path if path.is_file() else None
    except OSError:
        return None


def complete_path(text: str) -> tuple[str, list[str]]:
    """Complete a path being typed, as a shell's Tab does (blocking: lists one folder).

    Returns:
        The text extended by the longest prefix the matches share (a folder gets its
        ``/``), and the matching names (folders with a trailing ``/``), sorted, at
        most ``MAX_CANDIDATES``. Hidden names only when the typed part starts with ".";
        names with control characters never (they would reach the terminal).
    """
    folder_part, _, prefix = text.rpartition("/")
    folder = Path(
        os.path.expanduser(folder_part + "/" if folder_part or text.startswith("/") else ".")
    )
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return text, []
    names: list[str] = []
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        if entry.name.startswith(".") and not prefix.startswith("."):
            continue
        if clean_line(entry.name) != entry.name:
            continue  # control characters: never put into the field, where they could act
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        names.append(entry.name + "/" if is_dir else entry.name)
    names.sort()
    names = names[:MAX_CANDIDATES]
    if not names:
        return text, []
    common = os.path.commonprefix(names)
    head = text[: len(text) - len(prefix)]
    return head + common, names
