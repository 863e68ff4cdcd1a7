"""The palette's "Export session (Markdown)": the open session written to a new file.

A plain function the chat screen's action calls from a worker, over the small
:class:`~chat_tui.tui.host.ScreenHost` protocol. Reading the messages and writing the
file run in threads (:func:`chat_tui.services.transfer.export_session_file`), so a
slow disk never holds up a frame; the path is shown in a notification.
"""

from __future__ import annotations

from chat_tui.domain.text import clean_line
from chat_tui.errors import ChatTuiError
from chat_tui.services.transfer import export_session_file
from chat_tui.tui.host import ScreenHost


async def export_open_session(host: ScreenHost) -> None:
    """Export the open session as Markdown and say where it went (or why it did not)."""
    session = host.session
    sessions = host.services.sessions
    if session is None or sessions.is_draft(session):
        host.notify("Nothing to export yet: this session has no messages.", timeout=4)
        return
    try:
        path = await export_session_file(sessions, session)
    except (OSError, ChatTuiError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        host.notify(f"Export failed: {clean_line(reason)}", severity="error")
        return
    host.notify(f"Exported to {clean_line(path)}", title="Session exported", timeout=10)


__all__ = ["export_open_session"]
