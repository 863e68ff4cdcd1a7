"""Images attached to a message: the value stored with the message, and the rules about it.

Why a module of its own: an attachment crosses every layer (the blob store writes
it, the prompt builder sends it, the CLI and the TUI show it), and each needs the
same few rules once: what an image is (by its magic bytes, never by its name), how
its chip reads (name and size, controls made visible), and what a pasted path looks
like (quoted, ``file://`` URI, backslash-escaped spaces). Pure Python: no file is
read here.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from chat_tui.domain.text import clean_line

#: Image types a chat model takes as ``image_url`` parts, by their first bytes.
IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
#: Suffixes that make a pasted path worth a look (the content decides in the end).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
#: The longest name kept for a chip (the content hash names the file on disk).
MAX_NAME_CHARS = 120
_HEX = re.compile(r"[0-9a-f]{64}")


def sniff_image_type(head: bytes) -> str | None:
    """The media type of an image from its first bytes (at least 12), or None.

    PNG, JPEG, GIF and WebP (``RIFF....WEBP``): what OpenAI-compatible vision models
    take. A file named ``.png`` holding anything else is not an image.
    """
    for magic, media_type in IMAGE_MAGIC:
        if head.startswith(magic):
            return media_type
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def human_size(size: int) -> str:
    """``"512 B"``, ``"12.3 KB"``, ``"4.0 MB"`` (powers of 1,024)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def display_name(name: str) -> str:
    """A file name safe to show and store: its last part, controls visible, shortened."""
    last = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or "image"
    shown = clean_line(last)
    return shown if len(shown) <= MAX_NAME_CHARS else shown[: MAX_NAME_CHARS - 1] + "…"


@dataclass(frozen=True)
class Attachment:
    """An image attached to a user message, stored once by its content hash.

    Attributes:
        digest: the SHA-256 of the content (hex); it names the blob file.
        name: the file name as the user had it, for the chip (never used as a path).
        media_type: ``image/png``, ``image/jpeg``, ``image/gif`` or ``image/webp``.
        size: the content's size in bytes.
    """

    digest: str
    name: str
    media_type: str
    size: int

    def label(self) -> str:
        """The chip text: ``cat.png · 12.3 KB``, safe to show."""
        return f"{display_name(self.name)} · {human_size(self.size)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "name": self.name,
            "media_type": self.media_type,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Attachment | None:
        """The attachment stored as ``data``; None when it is not one (damaged or foreign)."""
        if not isinstance(data, dict):
            return None
        digest = str(data.get("digest") or "")
        if not _HEX.fullmatch(digest):
            return None
        try:
            size = max(0, int(data.get("size") or 0))
        except (TypeError, ValueError):
            size = 0
        return cls(
            digest=digest,
            name=display_name(str(data.get("name") or "image")),
            media_type=str(data.get("media_type") or "application/octet-stream"),
            size=size,
        )


def attachments_from(data: Any) -> tuple[Attachment, ...]:
    """The attachments of a stored message; entries that are not attachments are dropped."""
    if not isinstance(data, list):
        return ()
    found = (Attachment.from_dict(item) for item in data)
    return tuple(a for a in found if a is not None)


def pasted_path(text: str) -> str | None:
    """The one path a paste is, as terminals paste a dropped file; None when it is not one.

    Accepts ``/a/b.png``, ``'/a/my cat.png'``, ``"/a/my cat.png"``,
    ``/a/my\\ cat.png`` (backslash-escaped, as GNOME Terminal and iTerm2 paste),
    ``file:///a/my%20cat.png`` and ``~/cat.png``, surrounded by whitespace. Anything
    with more than one line or more than one word is text, not a path. Whether the
    file exists and is an image is for the caller to check.
    """
    stripped = text.strip()
    if not stripped or "\n" in stripped or "\r" in stripped or "\x00" in stripped:
        return None
    if stripped.startswith("file://"):
        parts = urlsplit(stripped)
        if parts.netloc not in ("", "localhost") or not parts.path:
            return None
        return unquote(parts.path)
    try:
        words = shlex.split(stripped)
    except ValueError:
        return None
    if len(words) != 1:
        return None
    path = words[0]
    if not (path.startswith(("/", "~", "./", "../")) or re.match(r"^[A-Za-z]:[\\/]", path)):
        return None
    return path


def looks_like_image_name(path: str) -> bool:
    """Whether ``path`` ends in an image suffix (a cheap first test before reading it)."""
    dot = path.rfind(".")
    return dot != -1 and path[dot:].lower() in IMAGE_SUFFIXES


#: What one image counts for in the prompt's token budget (OpenAI bills a 1024x1024
#: image at high detail ~765 tokens; local models vary): a round, cautious figure.
IMAGE_TOKENS = 1_000
