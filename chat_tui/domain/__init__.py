"""Pure-Python domain values: sessions, messages, roles, citations, prompt building."""

from chat_tui.domain.models import (
    Citation,
    Message,
    MessageStatus,
    Role,
    Session,
    Usage,
    new_id,
    now,
)

__all__ = ["Citation", "Message", "MessageStatus", "Role", "Session", "Usage", "new_id", "now"]
