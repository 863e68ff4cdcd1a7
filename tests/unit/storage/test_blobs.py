"""The image store: write once by content hash, atomically, never by the user's name."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from chat_tui.domain.attachments import Attachment
from chat_tui.storage.blobs import AttachmentError, BlobStore
from tests.support.images import png_bytes, write_png


def test_an_image_is_stored_once_under_its_hash(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "attachments")
    source = write_png(tmp_path / "pics" / "cat.png")
    first = store.add_file(source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert first == Attachment(digest, "cat.png", "image/png", source.stat().st_size)
    blob = store.path_for(digest)
    assert blob == tmp_path / "attachments" / digest[:2] / digest
    mtime = blob.stat().st_mtime_ns
    copy = tmp_path / "other" / "same image.png"
    copy.parent.mkdir()
    copy.write_bytes(source.read_bytes())
    second = store.add_file(copy)
    assert second.digest == digest and second.name == "same image.png"
    assert blob.stat().st_mtime_ns == mtime  # not written again
    assert [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()] == [blob]
    data = source.read_bytes()
    source.unlink()  # the original may go: the stored copy is what is sent
    assert store.read(first) == data


def test_hostile_names_are_never_paths(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "attachments")
    name = "../../../etc/\x1b[2Jpasswd\n.png"
    attachment = store.add_bytes(png_bytes(), name)
    assert "\x1b" not in attachment.name and "\n" not in attachment.name
    assert "/" not in attachment.name
    assert not (tmp_path / "etc").exists()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [store.path_for(attachment.digest)]
    with pytest.raises(AttachmentError):
        store.path_for("../" + "a" * 61)


def test_not_an_image_too_large_missing_or_a_folder_is_one_line(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "attachments", max_bytes=1024)
    fake = tmp_path / "notes.png"
    fake.write_text("just text pretending", encoding="utf-8")
    big = write_png(tmp_path / "big.png", width=200, height=200, rgb=(1, 2, 3))
    big.write_bytes(big.read_bytes() + os.urandom(2048))
    cases = {
        fake: "not a PNG, JPEG, GIF or WebP image",
        big: "over the 1.0 KB limit",
        tmp_path / "gone.png": "no such file",
        tmp_path: "it is a folder",
    }
    for path, reason in cases.items():
        with pytest.raises(AttachmentError) as caught:
            store.add_file(path)
        message = str(caught.value)
        assert reason in message and "\n" not in message, message
    assert not (tmp_path / "attachments").exists()  # nothing half-written


def test_a_missing_or_damaged_blob_reads_as_none(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "attachments")
    attachment = store.add_bytes(png_bytes(), "a.png")
    blob = store.path_for(attachment.digest)
    blob.write_bytes(b"damaged")
    assert store.read(attachment) is None
    blob.unlink()
    assert store.read(attachment) is None
    # Stored again, it is whole again (the damaged copy is not trusted by size alone).
    assert store.add_bytes(png_bytes(), "a.png") == attachment
    assert store.read(attachment) == png_bytes()


def test_an_unwritable_store_says_where(tmp_path: Path) -> None:
    root = tmp_path / "attachments"
    root.write_text("a file in the way", encoding="utf-8")
    with pytest.raises(AttachmentError) as caught:
        BlobStore(root).add_bytes(png_bytes(), "a.png")
    assert str(root) in str(caught.value)
