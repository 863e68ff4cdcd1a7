"""A small picture of an attached image, as coloured half-block cells any terminal can draw.

Why half-blocks and not a terminal image protocol: kitty graphics and sixel need the
terminal to be asked what it supports (bytes written and answers read while Textual
owns the terminal), and tmux, most SSH setups and many terminals pass neither. A cell
whose upper half is one pixel's colour (the foreground of ``▀``) and lower half the
next row's (its background) works in every terminal with true colour, which Textual
degrades for the others itself. It is a preview, to see which image is which, not a
viewer.

Decoding is Pillow's, of a file the blob store has already checked by its magic bytes;
the pixel count is read from the header and refused above ``MAX_PIXELS`` before any
pixel is decoded (a small PNG can claim gigapixels), and any decoding error is "no
preview", never a crash. Blocking: run it in a thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

#: Images claiming more pixels than this (about 8K x 5K) get no preview.
MAX_PIXELS = 40_000_000
#: Transparent parts are drawn over this colour (the chat pane's dark background).
BACKDROP = (30, 30, 30)

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Preview:
    """Rows of cells, each cell the colours of its upper and lower half (top, bottom)."""

    width: int
    height: int
    rows: tuple[tuple[tuple[RGB, RGB], ...], ...]


class PreviewError(Exception):
    """Why an image has no preview, in one line."""


def half_block_preview(data: bytes, columns: int, rows: int) -> Preview:
    """``data`` (an image file's bytes) fitted into ``columns`` x ``rows`` cells.

    The aspect ratio is kept (a cell is about twice as tall as wide, and holds two
    pixel rows, so pixels come out square); an image smaller than the box is not
    enlarged.

    Raises:
        PreviewError: not an image Pillow reads, too many pixels, or damaged.
    """
    from PIL import Image, UnidentifiedImageError

    if columns < 1 or rows < 1:
        raise PreviewError("no room for a preview")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise PreviewError(f"{width}x{height} pixels is too large to preview")
            image.draft("RGB", (columns, rows * 2))  # JPEG: decode at a fraction of the size
            image.thumbnail((columns, rows * 2))
            fitted = image.convert("RGBA")
    except PreviewError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise PreviewError(f"cannot decode the image ({type(error).__name__})") from None
    except Image.DecompressionBombError:
        raise PreviewError("too many pixels to preview") from None
    backdrop = Image.new("RGBA", fitted.size, (*BACKDROP, 255))
    pixels = Image.alpha_composite(backdrop, fitted).convert("RGB")
    w, h = pixels.size
    raw = pixels.tobytes()  # RGB triplets, row by row

    def at(x: int, y: int) -> RGB:
        if y >= h:
            return BACKDROP
        i = (y * w + x) * 3
        return (raw[i], raw[i + 1], raw[i + 2])

    cells = tuple(tuple((at(x, y), at(x, y + 1)) for x in range(w)) for y in range(0, h, 2))
    return Preview(width=w, height=len(cells), rows=cells)
