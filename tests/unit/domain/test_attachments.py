"""Attachments as values: what an image is, how a chip reads, what a pasted path is."""

from __future__ import annotations

import pytest

from chat_tui.domain.attachments import (
    Attachment,
    human_size,
    pasted_path,
    sniff_image_type,
)
from chat_tui.domain.models import Message
from tests.support.images import JPEG_HEAD, WEBP_HEAD, png_bytes

DIGEST = "ab" * 32


def test_images_are_known_by_their_first_bytes_not_their_name() -> None:
    assert sniff_image_type(png_bytes()[:16]) == "image/png"
    assert sniff_image_type(JPEG_HEAD) == "image/jpeg"
    assert sniff_image_type(WEBP_HEAD) == "image/webp"
    assert sniff_image_type(b"GIF89a\x01\x00") == "image/gif"
    assert sniff_image_type(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None  # a RIFF that is audio
    assert sniff_image_type(b"<html>not a png</html>") is None
    assert sniff_image_type(b"") is None


def test_a_message_keeps_its_attachments_through_storage_and_tolerates_junk() -> None:
    image = Attachment(digest=DIGEST, name="cat.png", media_type="image/png", size=2048)
    message = Message(session_id="s", role="user", content="look", attachments=(image,))
    assert Message.from_dict(message.to_dict()).attachments == (image,)
    # Older files have no key; damaged entries (not a dict, not a hash) are dropped.
    old = message.to_dict()
    del old["attachments"]
    assert Message.from_dict(old).attachments == ()
    damaged = {**message.to_dict(), "attachments": ["x", {"digest": "../../etc/passwd"}, None]}
    assert Message.from_dict(damaged).attachments == ()
    assert Message.from_dict({**message.to_dict(), "attachments": "nope"}).attachments == ()


def test_the_chip_shows_name_and_size_with_controls_visible() -> None:
    hostile = Attachment(
        digest=DIGEST, name="/tmp/\x1b]0;pwned\x07cat\nx.png", media_type="image/png", size=12_600
    )
    label = hostile.label()
    assert "\x1b" not in label and "\n" not in label and "\x07" not in label
    assert label.endswith("· 12.3 KB") and "/tmp" not in label
    assert human_size(512) == "512 B" and human_size(3 * 1024 * 1024) == "3.0 MB"


@pytest.mark.parametrize(
    ("pasted", "path"),
    [
        ("/home/u/cat.png", "/home/u/cat.png"),
        ("  /home/u/cat.png \n", "/home/u/cat.png"),
        ("'/home/u/my cat.png'", "/home/u/my cat.png"),
        ('"/home/u/my cat.png"', "/home/u/my cat.png"),
        ("/home/u/my\\ cat\\ (1).png", "/home/u/my cat (1).png"),
        ("file:///home/u/my%20cat.png", "/home/u/my cat.png"),
        ("file://localhost/tmp/a.png", "/tmp/a.png"),
        ("~/Pictures/a.png", "~/Pictures/a.png"),
    ],
)
def test_pasted_paths_as_terminals_paste_a_dropped_file(pasted: str, path: str) -> None:
    assert pasted_path(pasted) == path


@pytest.mark.parametrize(
    "pasted",
    [
        "what is in /home/u/cat.png?",
        "/a.png /b.png",
        "/a.png\n/b.png",
        "cat.png",
        "file://evil.example/a.png",
        "'/unterminated.png",
        "",
        "/a\x00.png",
    ],
)
def test_text_that_is_not_exactly_one_path_stays_text(pasted: str) -> None:
    assert pasted_path(pasted) is None
