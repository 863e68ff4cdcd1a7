"""Content-addressed image files under the data dir: written once, read by hash.

Why: an image attached to a message must outlive the file the user picked (moved,
edited, on a USB stick), and the same screenshot attached ten times should be
stored once. Each blob is named by the SHA-256 of its content, in a two-character
fan-out folder (``attachments/ab/abcdef...``); the user's file name is kept only in
the message's :class:`~chat_tui.domain.attachments.Attachment`, never used as a
path. Writes are atomic (temp file, fsync, rename), so a kill leaves the blob whole
or absent. A blob that is missing later (deleted by hand, another machine) is
reported as missing, never as a crash.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from chat_tui.domain.attachments import Attachment, display_name, human_size, sniff_image_type
from chat_tui.domain.text import clean_line
from chat_tui.errors import ChatTuiError
from chat_tui.storage.atomic import describe_os_error, write_atomically

#: The largest image attached (OpenAI takes 20 MB per image; most local servers less).
MAX_IMAGE_BYTES = 20 * 1024 * 1024
_SNIFF_BYTES = 16


class AttachmentError(ChatTuiError):
    """A file could not be attached: missing, unreadable, too large or not an image."""


class BlobStore:
    """Image blobs by content hash in ``root`` (created on first write).

    Args:
        root: the folder, e.g. ``<data dir>/attachments``.
        max_bytes: the largest blob accepted.
    """

    def __init__(self, root: Path, *, max_bytes: int = MAX_IMAGE_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_for(self, digest: str) -> Path:
        """Where the blob of ``digest`` lives (hex only: a stored digest is checked first)."""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise AttachmentError("not a content hash")
        return self.root / digest[:2] / digest

    def add_file(self, path: Path) -> Attachment:
        """Store the image at ``path`` and describe it (blocking: run in a thread).

        Raises:
            AttachmentError: one line naming the file and the reason (missing, a folder,
                unreadable, over the size limit, not a PNG/JPEG/GIF/WebP image).
        """
        shown = clean_line(str(path))
        try:
            size = path.stat().st_size
            if path.is_dir():
                raise AttachmentError(f"Cannot attach {shown}: it is a folder.")
            if size > self.max_bytes:
                raise AttachmentError(self._too_large(shown, size))
            with path.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except FileNotFoundError:
            raise AttachmentError(f"Cannot attach {shown}: no such file.") from None
        except OSError as error:
            raise AttachmentError(f"Cannot attach {shown}: {describe_os_error(error)}.") from None
        return self.add_bytes(data, path.name, shown=shown)

    def add_bytes(self, data: bytes, name: str, *, shown: str | None = None) -> Attachment:
        """Store ``data`` (an image) under its hash; an existing blob is left as it is.

        Raises:
            AttachmentError: too large, empty, not an image, or the folder is not writable.
        """
        shown = shown or display_name(name)
        if len(data) > self.max_bytes:
            raise AttachmentError(self._too_large(shown, len(data)))
        media_type = sniff_image_type(data[:_SNIFF_BYTES])
        if media_type is None:
            raise AttachmentError(
                f"Cannot attach {shown}: not a PNG, JPEG, GIF or WebP image "
                "(the content says so, whatever the name)."
            )
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if not _same_size(target, len(data)):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                write_atomically(target, data)
            except OSError as error:
                raise AttachmentError(
                    f"Cannot store {shown} in {clean_line(str(self.root))}: "
                    f"{describe_os_error(error)}."
                ) from None
        return Attachment(
            digest=digest, name=display_name(name), media_type=media_type, size=len(data)
        )

    def read(self, attachment: Attachment) -> bytes | None:
        """The blob's content, or None when it is missing, unreadable or not what was stored."""
        try:
            data = self.path_for(attachment.digest).read_bytes()
        except (OSError, AttachmentError):
            return None
        if hashlib.sha256(data).hexdigest() != attachment.digest:
            return None  # damaged on disk: better no image than the wrong one
        return data

    def _too_large(self, shown: str, size: int) -> str:
        return (
            f"Cannot attach {shown}: {human_size(size)} is over the "
            f"{human_size(self.max_bytes)} limit for an image."
        )


def _same_size(path: Path, size: int) -> bool:
    try:
        return os.stat(path).st_size == size
    except OSError:
        return False
