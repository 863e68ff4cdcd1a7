"""The finished blocks of an answer, kept as the lines they were drawn as.

Textual lays out and walks every mounted widget on every frame (the compositor's
reflow, its map diff, the size updates), and ``Markdown`` makes about ten widgets
per section of an answer (a list is a list, its items, their bullets and
paragraphs). While an answer streamed, every frame therefore cost more than the last:
measured on a 4,000-token answer at 200 tokens/s, the screen's update took ~14 ms of
CPU a frame in the first quarter and ~40 ms in the last.

A top-level block the Markdown parser has moved past is finished: ``Markdown.append``
re-parses and updates only the last block, so nothing can change it again. Its
widgets are captured once, after they are laid out, into the lines they were drawn
as (each widget's own public ``render_lines``, laid over one another where the
compositor put them), then hidden (``display: none``: the compositor skips them, the
DOM keeps them, with their source and content); one ``FrozenBlocks`` widget per
answer draws the lines. What is on screen is what Textual drew, and a frame at the
end of a long answer costs what one at its start does (measured after: ~5 ms reflow
a frame from start to end, against 3 to 15 ms before).

When to capture: after a layout that already left out what the last capture hid.
Freezes follow the screen's layout signal (``Screen.screen_layout_refresh_signal``),
not ``call_after_refresh``: while a batch update is open (``Markdown.append`` holds one
across its awaits) Textual runs "after refresh" callbacks with no layout in between,
and a second freeze then read the regions of the blocks the first had just hidden
(measured: ~26 blank rows in the middle of an answer, in 2 of 5 whole test runs). A
signal queued before a freeze can still be handled after it, so ``caught_up`` checks
the layout itself: the hidden widgets gone from it, the frozen lines at their height;
and ``take_finished`` captures only when the first block sits at the top of its
segment, where the rows below the frozen lines begin.

The lines hold one width, theme and background: when one changes (a resize, another
theme, the message cursor on the answer), the answer view shows the widgets again.
Links in the lines still open, and text in them can be selected with the mouse
(``get_selection``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from textual import events
from textual.color import Color
from textual.geometry import Region, Size
from textual.message import Message
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget


def laid_out(widget: Widget) -> Region | None:
    """The widget's region on the screen, or None while it is not laid out."""
    region = widget.region
    return region if region.width and region.height else None


def stale(container: Widget, blocks: Sequence[Widget]) -> list[Widget]:
    """The blocks whose laid-out height is not the height their content has now.

    The answer body's ``stream`` layout keeps a child's last placement unless the
    child itself asked for a layout; when a code block's label grows, only the label
    asks, and the block keeps its old, shorter slot until something lays it out again.
    Frozen, such a slot would stay wrong for good; ``refresh(layout=True)`` on the
    block makes the next layout place it afresh.
    """
    viewport = container.app.size
    found = []
    for block in blocks:
        region = laid_out(block)
        gutter = block.styles.gutter
        if region is None:
            continue
        height = (
            block.get_content_height(container.size, viewport, region.width - gutter.width)
            + gutter.height
        )
        if height != region.height:
            found.append(block)
    return found


def capture(container: Widget, blocks: Sequence[Widget], height: int) -> list[Strip] | None:
    """The first ``height`` lines of ``container`` as drawn with only ``blocks`` in it.

    ``container`` (a ``Markdown``) draws its own background; ``blocks`` (its first
    children) and everything inside them are drawn over it where the compositor
    placed them, each clipped to its parent as the compositor clips it.

    Returns:
        The lines, or None when a widget is not laid out (mounted in this frame).
    """
    origin = laid_out(container)
    if origin is None or height <= 0 or height > origin.height:
        return None
    width = origin.width
    rows = container.render_lines(Region(0, 0, width, height))
    clips: dict[Widget, Region] = {container: Region(0, 0, width, height)}
    for block in blocks:
        if block.parent is not container:
            return None
        for widget in block.walk_children(Widget, with_self=True):
            parent = widget.parent
            if not isinstance(parent, Widget) or parent not in clips:
                continue  # inside a widget that is not drawn
            if not widget.display or not widget.visible:
                continue
            region = laid_out(widget)
            if region is None:
                if widget is block:
                    return None
                continue
            place = region.translate((-origin.x, -origin.y))
            clip = clips[parent].intersection(place)
            clips[widget] = clip
            if not clip:
                continue
            crop = Region(clip.x - place.x, clip.y - place.y, clip.width, clip.height)
            lines = widget.render_lines(crop)
            for number, line in enumerate(lines[: clip.height]):
                y = clip.y + number
                row = rows[y]
                rows[y] = Strip.join(
                    [
                        row.crop(0, clip.x),
                        line.adjust_cell_length(clip.width),
                        row.crop(clip.right, width),
                    ]
                )
    return [row.adjust_cell_length(width) for row in rows]


@dataclass
class Taken:
    """What one freeze captured (see ``take_finished``)."""

    #: The captured lines, top to bottom.
    lines: list[Strip] = field(default_factory=list)
    #: The widgets the lines replace (blocks, or whole segments), to hide.
    replaced: list[Widget] = field(default_factory=list)
    #: Finished blocks were left for the next freeze (the budget ran out).
    more: bool = False
    #: The layout has not caught up (a block not laid out, or not where its rows
    #: begin): try again after the next layout.
    retry: bool = False


def take_finished(segments: Sequence[Widget], *, keep: int, budget: int) -> Taken:
    """Capture the finished blocks at the top of ``segments`` (the shown ones, in order).

    Whole segments above the last, then all blocks but the last of the last one
    (``Markdown.append`` only ever changes its last block), at most ``budget`` blocks;
    the last segment is left alone while it has fewer than ``keep`` finished blocks.
    """
    taken = Taken()
    for segment in segments:
        blocks = [block for block in segment.children if block.display]
        live = segment is segments[-1]
        finished = blocks[:-1] if live else blocks
        if live and len(finished) < keep:
            break
        chosen = finished[:budget]
        top = laid_out(segment)
        if not chosen:
            break
        first = laid_out(chosen[0])
        if top is None or first is None:
            taken.retry = True
            break
        if first.y - chosen[0].styles.margin.top != top.y + segment.styles.gutter.top:
            # Not at the top of the live rows: the regions are from a layout that still
            # had blocks above it (see the module docstring).
            taken.retry = True
            break
        if outdated := stale(segment, chosen):
            for block in outdated:
                block.refresh(layout=True)  # frozen after the next append, if any
            break
        if len(chosen) == len(blocks):  # a whole segment above the last
            height = top.height
        else:
            following = blocks[len(chosen)]
            below = laid_out(following)
            if below is None:
                taken.retry = True
                break
            height = below.y - following.styles.margin.top - top.y
        captured = capture(segment, chosen, height)
        if captured is None:
            taken.retry = True
            break
        taken.lines.extend(captured)
        taken.replaced.extend([segment] if len(chosen) == len(blocks) else chosen)
        budget -= len(chosen)
        if len(chosen) < len(finished) or budget <= 0:
            taken.more = True  # in the next frame, not in this one
            break
        if live:
            break
    return taken


def caught_up(frozen: FrozenBlocks | None, replaced: Sequence[Widget]) -> bool:
    """Whether the last layout had ``frozen``'s lines and not the widgets they replaced.

    A hidden widget keeps the region of the last layout that showed it.
    """
    if any(laid_out(widget) is not None for widget in replaced):
        return False
    if frozen is not None and frozen.lines:
        region = laid_out(frozen)
        return region is not None and region.height == len(frozen.lines)
    return True


class FrozenBlocks(Widget):
    """Lines captured from finished Markdown blocks (see the module docstring)."""

    DEFAULT_CSS = """
    FrozenBlocks {
        height: auto;
        width: 1fr;
    }
    """

    class Outdated(Message):
        """The lines no longer fit: the width or the theme changed since they were drawn."""

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.lines: list[Strip] = []
        #: The width the lines were drawn at; at any other they are wrong.
        self.drawn_width = 0
        #: The background the lines were drawn on (see ``render_line``).
        self._drawn_on: Color | None = None
        self._reported = False  # ``Outdated`` posted for these lines

    def extend(self, lines: Sequence[Strip], width: int, background: Color) -> None:
        """Add lines captured at ``width`` over ``background`` below the ones held."""
        if not self.lines:
            self.drawn_width, self._drawn_on = width, background
            self._reported = False
        self.lines.extend(lines)
        self.refresh(layout=True)

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _outdated(self) -> None:
        if self.lines and not self._reported:
            self._reported = True
            self.post_message(self.Outdated())

    def _theme_changed(self) -> None:
        self._outdated()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self.drawn_width:
            self._outdated()

    def clear(self) -> None:
        """Drop the lines (the widgets they were captured from are shown again)."""
        self.lines = []
        self.refresh(layout=True)

    @property
    def text(self) -> str:
        """The plain text of the lines (what a selection copies from)."""
        return "\n".join(line.text.rstrip() for line in self.lines)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.drawn_width

    def render_line(self, y: int) -> Strip:
        if not 0 <= y < len(self.lines):
            return Strip.blank(self.size.width)
        line = self.lines[y]
        if self._drawn_on is not None and self.background_colors[1] != self._drawn_on:
            # The answer's background changed (``-selected`` when the message cursor is
            # on it): what was drawn over the old one (code, inline code) would be off.
            self._outdated()
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(y)) is not None:
            start, end = span
            end = line.cell_length if end == -1 else end
            style = self.screen.get_component_rich_style("screen--selection")
            line = Strip.join(
                [line.crop(0, start), line.crop(start, end).apply_style(style), line.crop(end)]
            )
        return line.apply_offsets(0, y)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract(self.text), "\n"

    def action_link(self, href: str) -> None:
        """A link in the lines was clicked: open it, as ``Markdown`` does."""
        self.app.open_url(href)


__all__ = ["FrozenBlocks", "Taken", "capture", "caught_up", "laid_out", "stale", "take_finished"]
