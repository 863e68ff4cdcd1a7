"""Domain values shared by storage, services, the CLI and the TUI.

All frozen dataclasses: a change is a new value made with ``dataclasses.replace``,
so nothing mutates a message that another layer still holds. Each has
``to_dict`` / ``from_dict`` for the JSON storage; ``from_dict`` tolerates missing
keys so old files keep loading.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

from chat_tui.domain.attachments import Attachment, attachments_from
from chat_tui.domain.text import clean_line

ChatRole = Literal["system", "user", "assistant"]


def new_id() -> str:
    """A new random identifier (hex, 32 characters)."""
    return uuid.uuid4().hex


def now() -> float:
    """The current wall-clock time as a POSIX timestamp."""
    return time.time()


#: ``Message.parent_id`` of a message that starts a conversation (see ``Message``).
FIRST = ""


class MessageStatus(StrEnum):
    """How an assistant answer ended. User turns are always complete.

    ``INTERRUPTED`` is a checkpoint of an answer still streaming: stored every few
    seconds so a crash keeps what was shown. One still marked so after a restart
    was cut off by the process dying. (An older chat-tui reads it as complete.)
    """

    COMPLETE = "complete"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Usage:
    """Token counts as the server reported them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Usage | None:
        if not data:
            return None
        return cls(
            prompt_tokens=int(data.get("prompt_tokens", 0) or 0),
            completion_tokens=int(data.get("completion_tokens", 0) or 0),
            total_tokens=int(data.get("total_tokens", 0) or 0),
        )


@dataclass(frozen=True)
class Citation:
    """Where a retrieved passage came from, shown under the answer.

    Attributes:
        source: the file path as ingested.
        heading: the heading path ("Install > Linux"), empty when none.
        page: the PDF page (1-based) or None.
        line_start: first line (1-based) or None.
        line_end: last line (1-based) or None.
        score: the retrieval score (higher is better).
        knowledge_base: the knowledge base the passage came from.
        anchor: the ``id`` anchor of the spot in an HTML page (``page.html#anchor``), or "".
        root: the folder that was ingested; the label shows ``source`` relative to it.
        also_in: other files holding a copy of the passage (stored once), as ingested.
    """

    source: str
    heading: str = ""
    page: int | None = None
    line_start: int | None = None
    line_end: int | None = None
    score: float = 0.0
    knowledge_base: str = "default"
    anchor: str = ""
    root: str = ""
    also_in: tuple[str, ...] = ()

    @property
    def location(self) -> str:
        """The source as the user knows it: relative to the ingested folder, with ``#anchor``."""
        source = self.source
        root = self.root.rstrip("/\\")
        if root and source.startswith(root) and source[len(root) : len(root) + 1] in ("/", "\\"):
            source = source[len(root) + 1 :]
        return f"{source}#{self.anchor}" if self.anchor else source

    def label(self) -> str:
        """A short human label: ``guide.md > Install (lines 3-9)``, ``os.html#os.stat > Files``.

        Source and heading come from documents and file names: the label is safe to
        show (controls made visible by ``clean_line``), also for citations stored
        before ingest cleaned headings.
        """
        parts = [self.location]
        if self.heading:
            parts.append(f" > {self.heading}")
        if self.page is not None:
            parts.append(f" (page {self.page})")
        elif self.line_start is not None:
            end = self.line_end if self.line_end is not None else self.line_start
            parts.append(f" (lines {self.line_start}-{end})")
        if self.also_in:
            parts.append(" " + _also_in_label(self.also_in, self.root))
        return clean_line("".join(parts))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        return cls(
            source=str(data.get("source", "")),
            heading=str(data.get("heading", "") or ""),
            page=data.get("page"),
            line_start=data.get("line_start"),
            line_end=data.get("line_end"),
            score=float(data.get("score", 0.0) or 0.0),
            knowledge_base=str(data.get("knowledge_base", "default") or "default"),
            anchor=str(data.get("anchor", "") or ""),
            root=str(data.get("root", "") or ""),
            also_in=tuple(str(s) for s in data.get("also_in") or () if isinstance(s, str)),
        )


def _also_in_label(sources: Sequence[str], root: str, shown: int = 2) -> str:
    """``"(also in: a.md, b.md +3)"``: the other files of a passage, relative to ``root``."""
    names = [Citation(source=source, root=root).location for source in dict.fromkeys(sources)]
    head = ", ".join(names[:shown])
    rest = len(names) - shown
    return f"(also in: {head} +{rest})" if rest > 0 else f"(also in: {head})"


@dataclass(frozen=True)
class Message:
    """One turn of a conversation.

    ``reasoning`` is the model's "thinking" text: stored and shown, never sent back
    as context. ``citations`` are the knowledge-base sources used for an answer.
    """

    session_id: str
    role: ChatRole
    content: str
    id: str = field(default_factory=new_id)
    reasoning: str = ""
    created_at: float = field(default_factory=now)
    completed_at: float | None = None
    model: str | None = None
    usage: Usage | None = None
    status: MessageStatus = MessageStatus.COMPLETE
    error: str | None = None
    citations: tuple[Citation, ...] = ()
    #: Why a failed answer failed, as a machine-readable kind ("context_length",
    #: "rate_limit", ...; see ``ProviderError.kind``), so a front end can offer the fix.
    error_kind: str | None = None
    #: The id of the message this one follows. Several messages with one parent are
    #: branches: an edited question, a regenerated answer. None: the message stored
    #: before it (every message stored before branches existed, and any stored by
    #: code that does not branch); ``FIRST`` (""): the first of a conversation (an
    #: edited first question). See :mod:`chat_tui.domain.branches`.
    parent_id: str | None = None
    #: Images attached to a user message (stored once each, by content hash).
    attachments: tuple[Attachment, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "role": self.role,
            "content": self.content,
            "reasoning": self.reasoning,
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "model": self.model,
            "usage": asdict(self.usage) if self.usage else None,
            "status": self.status.value,
            "error": self.error,
            "citations": [c.to_dict() for c in self.citations],
            "error_kind": self.error_kind,
            "parent_id": self.parent_id,
            "attachments": [a.to_dict() for a in self.attachments],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        status = data.get("status") or MessageStatus.COMPLETE.value
        try:
            parsed_status = MessageStatus(status)
        except ValueError:
            parsed_status = MessageStatus.COMPLETE
        return cls(
            id=str(data.get("id") or new_id()),
            session_id=str(data.get("session_id", "")),
            role=data.get("role", "user"),
            content=str(data.get("content", "")),
            reasoning=str(data.get("reasoning", "") or ""),
            created_at=float(data.get("created_at") or 0.0),
            completed_at=data.get("completed_at"),
            model=data.get("model"),
            usage=Usage.from_dict(data.get("usage")),
            status=parsed_status,
            error=data.get("error"),
            citations=tuple(Citation.from_dict(c) for c in data.get("citations") or ()),
            error_kind=str(data["error_kind"]) if data.get("error_kind") else None,
            parent_id=_parent_id(data.get("parent_id")),
            attachments=attachments_from(data.get("attachments")),
        )


@dataclass(frozen=True)
class Session:
    """A conversation, owned by exactly one role.

    ``knowledge_base`` None means "the role's (or the default) knowledge base";
    ``retrieval_enabled`` is the per-session switch.
    """

    role: str
    id: str = field(default_factory=new_id)
    title: str = "New chat"
    created_at: float = field(default_factory=now)
    updated_at: float = field(default_factory=now)
    message_count: int = 0
    knowledge_base: str | None = None
    retrieval_enabled: bool = True
    titled: bool = False
    #: The message the user last chose to see (a switch, an edit, a regenerate); the
    #: conversation shown runs through it and on through the newest replies below it.
    #: None: the newest of everything (see :mod:`chat_tui.domain.branches`).
    current_leaf: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        return cls(
            id=str(data.get("id") or new_id()),
            role=str(data.get("role", "assistant")),
            title=str(data.get("title", "New chat")),
            created_at=float(data.get("created_at") or 0.0),
            updated_at=float(data.get("updated_at") or 0.0),
            message_count=int(data.get("message_count") or 0),
            knowledge_base=data.get("knowledge_base"),
            retrieval_enabled=bool(data.get("retrieval_enabled", True)),
            titled=bool(data.get("titled", False)),
            current_leaf=_optional_id(data.get("current_leaf")),
        )


def _optional_id(value: Any) -> str | None:
    """An id read from a file: a non-empty string, else None (hand-edited files too)."""
    return value if isinstance(value, str) and value else None


def _parent_id(value: Any) -> str | None:
    """A parent link read from a file: an id, ``FIRST`` (""), else None (the one before)."""
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Role:
    """A persona: a system prompt with optional model settings and knowledge base."""

    name: str
    system_prompt: str
    description: str = ""
    model: str | None = None
    temperature: float | None = None
    knowledge_base: str | None = None
    builtin: bool = False
