"""Half-block previews of attached images: colours, aspect, and hostile files refused."""

from __future__ import annotations

import struct
import zlib

import pytest

from chat_tui.services.image_preview import BACKDROP, PreviewError, half_block_preview
from tests.support.images import JPEG_HEAD, png_bytes


def test_a_one_colour_image_is_cells_of_that_colour_in_its_aspect() -> None:
    preview = half_block_preview(png_bytes(80, 40, rgb=(200, 30, 30)), columns=40, rows=16)
    # 80x40 px fitted into 40 columns: 40x20 px, two pixel rows per cell -> 10 rows.
    assert (preview.width, preview.height) == (40, 10)
    assert {cell for row in preview.rows for cell in row} == {((200, 30, 30), (200, 30, 30))}


def test_a_small_image_is_not_enlarged_and_an_odd_last_row_shows_the_backdrop() -> None:
    preview = half_block_preview(png_bytes(3, 3, rgb=(0, 200, 0)), columns=40, rows=16)
    assert (preview.width, preview.height) == (3, 2)
    assert preview.rows[1][0] == ((0, 200, 0), BACKDROP)


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (its data is one tiny row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_png_claiming(100_000, 100_000), "pixels"),
        (_png_claiming(8_000, 6_000), "too large"),  # under Pillow's own limit, over ours
        (_png_claiming(4, 4), "cannot decode"),  # truncated pixel data
        (JPEG_HEAD, "cannot decode"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "cannot decode"),
        (b"", "cannot decode"),
    ],
    ids=["pixel-bomb", "over-our-limit", "truncated", "jpeg-header-only", "bad-png", "empty"],
)
def test_a_hostile_or_damaged_image_gets_no_preview_and_one_line(data: bytes, reason: str) -> None:
    with pytest.raises(PreviewError) as raised:
        half_block_preview(data, columns=40, rows=16)
    assert reason in str(raised.value) and "\n" not in str(raised.value)
