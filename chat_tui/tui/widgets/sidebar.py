"""The sidebar: sessions grouped by role, with title and last activity.

An ``OptionList`` renders only the visible lines, so thousands of sessions cost
no more widgets than ten.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from chat_tui.domain.models import Role, Session
from chat_tui.domain.text import clean_line
from chat_tui.tui.messages import SessionSelected

HEADER_PREFIX = "role:"
#: Sessions listed per role, most recent first; older ones stay reachable with
#: ctrl+up/down and ``chat-tui sessions list``. The OptionList measures every line, so
#: 1,000 sessions cost ~60 ms of start-up; 100 per role keeps it small.
MAX_PER_ROLE = 100


def relative_time(timestamp: float, now: float | None = None) -> str:
    """'now', '5m', '3h', '2d', or a date for older activity."""
    seconds = max(0.0, (now or time.time()) - timestamp)
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 7 * 86400:
        return f"{int(seconds // 86400)}d"
    return datetime.fromtimestamp(timestamp).strftime("%b %d")


def fit_title(title: str, width: int) -> str:
    """``title`` cut to ``width`` terminal cells, with "…" where it was cut.

    Cells, not characters: a CJK character takes two, so a Chinese title cut by
    ``len`` was twice too wide and wrapped onto a second line.
    """
    if cell_len(title) <= width:
        return title
    return set_cell_size(title, width - 1).rstrip(" ") + "…"


class SessionSidebar(OptionList):
    """Sessions of every role; the current role's group comes first."""

    DEFAULT_CSS = """
    SessionSidebar {
        width: 34;
        height: 1fr;
    }
    """

    _shown: tuple[Sequence[Role], Sequence[Session], str | None, str] | None = None
    _shown_width = 0
    _shown_lines: list[tuple[str | None, str]] | None = None

    def on_resize(self) -> None:
        # Titles are cut to the width: lay them out again once the real width is known
        # (start-up fills the list before the first layout) or when it changes.
        if self._shown is not None and self.size.width != self._shown_width:
            self.show(*self._shown)

    def show(
        self, roles: Sequence[Role], sessions: Sequence[Session], current: str | None, role: str
    ) -> None:
        """Rebuild the list and highlight ``current``."""
        self._shown = (roles, sessions, current, role)
        if not self.size.width:
            return  # not laid out yet: on_resize builds it once, at the real width
        self._shown_width = self.size.width
        by_role: dict[str, list[Session]] = {}
        for session in sessions:
            by_role.setdefault(session.role, []).append(session)
        order = [role] + [r.name for r in roles if r.name != role]
        order += [name for name in by_role if name not in order]
        options: list[Option] = []
        now = time.time()
        for name in order:
            group = by_role.get(name, [])
            label = Content.styled(f"{name} ({len(group)})", "bold $accent")
            options.append(Option(label, id=f"{HEADER_PREFIX}{name}", disabled=True))
            listed = group[:MAX_PER_ROLE]
            listed += [s for s in group[MAX_PER_ROLE:] if s.id == current]
            for session in listed:
                when = relative_time(session.updated_at, now)
                width = max(8, self.size.width - 4 - len(when))
                title = fit_title(clean_line(session.title), width)  # user's or file's text
                prompt = Content.assemble(
                    Content(title),
                    Content(" " * max(1, width - cell_len(title) + 1)),
                    Content.styled(when, "dim"),
                )
                options.append(Option(prompt, id=session.id))
            if len(group) > len(listed):
                older = Content.styled(
                    f"  … {len(group) - len(listed)} older (ctrl+↑/↓)", "dim italic"
                )
                options.append(Option(older, id=f"{HEADER_PREFIX}{name}:older", disabled=True))
        # Switching sessions mostly changes only the highlight: re-measuring every line
        # (set_options) is what costs, so skip it when the lines are the same.
        lines = [(option.id, str(option.prompt)) for option in options]
        if lines != self._shown_lines:
            self._shown_lines = lines
            self.set_options(options)
        if current is not None:
            self.highlight_session(current)

    def highlight_session(self, session_id: str) -> None:
        """Move the highlight to ``session_id`` if it is listed, without rebuilding the list.

        No I/O and no re-measuring: the screen calls it in the frame that shows a session
        just opened, before ``show`` has the list re-read (after that frame), so the
        first frame does not highlight the session left.
        """
        if self._shown is not None and self._shown[2] != session_id:
            roles, sessions, _, role = self._shown
            self._shown = (roles, sessions, session_id, role)  # kept on a resize rebuild
        try:
            self.highlighted = self.get_option_index(session_id)
        except OptionDoesNotExist:  # the session may have just gone, or is not saved yet
            pass

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id
        if option_id and not option_id.startswith(HEADER_PREFIX):
            self.post_message(SessionSelected(option_id))
