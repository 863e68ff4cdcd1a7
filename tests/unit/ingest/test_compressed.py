"""Compressed text files are read by their inner name, with the decompressed size capped."""

from __future__ import annotations

import bz2
import gzip
import lzma
import resource
from pathlib import Path

import pytest

from chat_tui.errors import IngestError
from chat_tui.ingest.loaders import load_document, read_file_bytes
from chat_tui.ingest.report import FileRefused


def _load(path: Path, max_mb: float = 1.0):  # type: ignore[no-untyped-def]
    data = read_file_bytes(path, max_mb)
    return load_document(path, data, allow_images=False, max_file_mb=max_mb)


@pytest.mark.parametrize(
    ("suffix", "pack"),
    [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress)],
)
def test_compressed_markdown_is_read_as_markdown(tmp_path: Path, suffix: str, pack) -> None:  # type: ignore[no-untyped-def]
    text = "# Install\n\nRun the installer.\n"
    path = tmp_path / f"README.md{suffix}"
    path.write_bytes(pack(text.encode()))
    document = _load(path)
    assert document.kind == "markdown"
    assert document.text == text


def test_concatenated_gzip_members_are_all_read(tmp_path: Path) -> None:
    path = tmp_path / "changelog.gz"
    path.write_bytes(gzip.compress(b"first entry\n") + gzip.compress(b"second entry\n"))
    document = _load(path)
    assert document.kind == "text"
    assert document.text == "first entry\nsecond entry\n"


def test_gzip_bomb_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.txt.gz"
    with gzip.open(path, "wb", compresslevel=9) as handle:
        block = b"\0" * (1024 * 1024)
        for _ in range(512):  # 512 MB of zeros, ~500 KB on disk
            handle.write(block)
    assert path.stat().st_size < 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(FileRefused) as caught:
        _load(path, max_mb=1.0)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert "too large once decompressed" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert grown_kb < 64 * 1024  # nowhere near the 512 MB the bomb holds


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_corrupt_archive_is_a_one_line_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"notes.txt{suffix}"
    path.write_bytes(b"this is not compressed at all\n" * 4)
    with pytest.raises(IngestError) as caught:
        _load(path)
    assert "corrupt" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_truncated_xz_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt.xz"
    packed = lzma.compress(b"some words that compress\n" * 200)
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(IngestError) as caught:
        _load(path)
    assert "xz" in str(caught.value)
