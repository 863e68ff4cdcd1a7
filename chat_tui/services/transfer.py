"""Sessions out of chat-tui and back in: Markdown and JSON export, JSON and ChatGPT import.

Why a module of its own: the CLI (``chat-tui sessions export|import``) and the TUI's
"Export session" command share one code path, written over the storage contract
(:class:`~chat_tui.storage.base.SessionRepository`) alone.

* JSON is the complete stored record: every session's and message's ``to_dict()``
  under a format marker and a version, read back with ``from_dict``, so a field added
  to the domain values later (a message's parent, say) is carried without a change
  here, and an export imported into an empty history gives the same sessions.
* Markdown is for reading: title, role, dates, each turn under a heading, code fences
  as they were (an unclosed one is closed, so the next heading stays a heading) and
  the sources under each answer. Text passes :mod:`chat_tui.domain.text`, so a file
  that is ``cat`` to a terminal cannot act on it.
* Import never overwrites: a session whose id is stored already with the same
  messages is skipped ("already imported"); with other messages it is stored under a
  new id derived from the old one and its content, so importing the same file again
  still finds it. A bad file is one line (:class:`TransferError`), naming the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from chat_tui.domain.branches import visible_path
from chat_tui.domain.models import Message, Session, new_id, now
from chat_tui.domain.text import clean_line, clean_text, terminal_safe_json
from chat_tui.errors import ChatTuiError
from chat_tui.services.chatgpt_format import chatgpt_sessions, looks_like_chatgpt
from chat_tui.services.sessions import SessionService
from chat_tui.storage.base import SessionRepository

#: The ``format`` marker of a chat-tui JSON export.
EXPORT_FORMAT = "chat-tui/sessions"
#: The version written; an import refuses a newer one.
EXPORT_VERSION = 1
#: How many new ids an import tries for a session whose id holds other messages.
_MAX_COPIES = 64

Progress = Callable[[int, int], None]
"""Called with (sessions done, sessions in the file) as an import goes."""


class TransferError(ChatTuiError):
    """An export or import that cannot be done; one line, naming the file."""


# ---------------------------------------------------------------------------- export


def session_record(session: Session, messages: Sequence[Message]) -> dict[str, Any]:
    """One session's complete stored record: the session and every message."""
    return {"session": session.to_dict(), "messages": [m.to_dict() for m in messages]}


def export_document(repository: SessionRepository, sessions: Iterable[Session]) -> dict[str, Any]:
    """The JSON export of ``sessions`` (blocking: reads each session's file)."""
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": now(),
        "sessions": [session_record(s, repository.messages(s.id)) for s in sessions],
    }


def export_json(repository: SessionRepository, sessions: Iterable[Session]) -> str:
    """The JSON export as text: exact when parsed, and safe to print to a terminal."""
    return terminal_safe_json(export_document(repository, sessions)) + "\n"


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return "unknown"
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def close_open_fence(text: str) -> str:
    """``text`` with a code fence left open (an answer cut short) closed at its end.

    Fences follow CommonMark: a closing fence is the opening character, at least as
    many times, with nothing after it.
    """
    opened: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if match is None:
            continue
        fence, rest = match.groups()
        if opened is None:
            if not (fence[0] == "`" and "`" in rest):  # a backtick fence's info has no `
                opened = fence
        elif fence[0] == opened[0] and len(fence) >= len(opened) and not rest.strip():
            opened = None
    return text if opened is None else text.rstrip("\n") + "\n" + opened


def session_markdown(session: Session, messages: Sequence[Message]) -> str:
    """One session as a Markdown document."""
    lines = [
        f"# {clean_line(session.title)}",
        "",
        f"- Role: {clean_line(session.role)}",
        f"- Started: {_when(session.created_at)}",
        f"- Last active: {_when(session.updated_at)}",
        f"- Session: {clean_line(session.id)}",
    ]
    # The branch shown, as a reader sees it (the JSON export keeps every branch).
    for message in visible_path(messages, session.current_leaf):
        heading = message.role.capitalize()
        if message.model:
            heading += f" ({clean_line(message.model)})"
        heading += f" · {_when(message.created_at)}"
        if message.status.value != "complete":
            heading += f" [{message.status.value}]"
        lines += ["", f"## {heading}", ""]
        if message.reasoning:
            lines += [
                "<details><summary>Reasoning</summary>",
                "",
                close_open_fence(clean_text(message.reasoning).strip("\n")),
                "",
                "</details>",
                "",
            ]
        lines.append(close_open_fence(clean_text(message.content).strip("\n")))
        if message.error:
            lines += ["", f"> **Error:** {clean_line(message.error)}"]
        if message.citations:
            lines += ["", "**Sources**", ""]
            lines += [f"{n}. {c.label()}" for n, c in enumerate(message.citations, start=1)]
    return "\n".join(lines) + "\n"


def export_markdown(repository: SessionRepository, sessions: Iterable[Session]) -> str:
    """``sessions`` as one Markdown document, a rule between sessions (blocking)."""
    parts = [session_markdown(s, repository.messages(s.id)) for s in sessions]
    return "\n---\n\n".join(parts)


_UNSAFE_NAME = re.compile(r"[^\w.-]+")


def export_file_name(session: Session, suffix: str = ".md") -> str:
    """A file name for a session's export: its title made file-name safe, and its date."""
    stem = _UNSAFE_NAME.sub("-", session.title).strip("-.")[:60].rstrip("-.") or "chat"
    return f"{stem}-{datetime.fromtimestamp(session.updated_at or now()):%Y%m%d-%H%M}{suffix}"


def write_new_file(directory: Path, name: str, text: str) -> Path:
    """Write ``text`` to a new file ``name`` in ``directory`` (``name-2``... when taken).

    Never replaces a file; blocking (run it in a thread from an event loop).

    Raises:
        OSError: the directory cannot be written.
    """
    stem, dot, suffix = name.rpartition(".")
    stem, suffix = (stem, dot + suffix) if dot else (name, "")
    payload = text.encode("utf-8")
    for number in range(1, 1000):
        path = directory / (name if number == 1 else f"{stem}-{number}{suffix}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        return path
    raise FileExistsError(f"{directory / name} and 998 numbered variants exist")


def export_directory() -> Path:
    """Where the TUI puts an export: ``~/Downloads`` when it exists, else the current folder.

    ``~/Downloads`` is where people look for a file an app just gave them, and it is
    never a project folder that a stray file would clutter (or end up committed from);
    the folder chat-tui was started in is the next place a terminal user looks.
    """
    downloads = Path.home() / "Downloads"
    return downloads if downloads.is_dir() else Path.cwd()


async def export_session_file(
    sessions: SessionService, session: Session, directory: Path | None = None
) -> Path:
    """Write ``session`` as Markdown to a new file (never over one); returns its path.

    The messages are read and the file written in threads, off the event loop.

    Raises:
        OSError: the folder cannot be written.
        StorageError: the session cannot be read.
    """
    messages = await sessions.messages(session.id)
    text = session_markdown(session, messages)
    folder = directory if directory is not None else await asyncio.to_thread(export_directory)
    return await asyncio.to_thread(write_new_file, folder, export_file_name(session), text)


# ---------------------------------------------------------------------------- import


@dataclass(frozen=True)
class Imported:
    """What became of one session of an import.

    Attributes:
        outcome: "imported" (under its own id), "copied" (its id held other messages:
            stored under a new id) or "skipped" (already imported).
        session: the stored session (for "skipped", the one found).
        original_id: the id the file gave it.
    """

    outcome: Literal["imported", "copied", "skipped"]
    session: Session
    original_id: str


@dataclass
class ReadFile:
    """The sessions read from one file, and notes on what was left out."""

    kind: Literal["chat-tui", "chatgpt"]
    sessions: list[tuple[Session, list[Message]]]
    notes: list[str] = field(default_factory=list)


def _problem(path: Path, reason: str) -> TransferError:
    return TransferError(f"{clean_line(path)}: {reason}")


def _load_json(path: Path) -> Any:
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            # A FIFO would block the import for ever, /dev/zero fill the memory.
            raise _problem(path, "not a regular file (a device, socket or pipe)")
        raw = path.read_bytes()
    except IsADirectoryError:
        raise _problem(path, "is a directory, not an export file") from None
    except FileNotFoundError:
        raise _problem(path, "no such file") from None
    except OSError as error:
        raise _problem(path, f"cannot read ({error.strerror or error})") from None
    if raw.startswith(b"PK\x03\x04"):  # ChatGPT's export as downloaded: a zip
        try:
            with zipfile.ZipFile(path) as archive:
                raw = archive.read("conversations.json")
        except KeyError:
            raise _problem(path, "a zip without conversations.json") from None
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise _problem(path, f"a damaged zip ({clean_line(error)})") from None
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _problem(path, "not UTF-8 text (not an export file)") from None
    except json.JSONDecodeError as error:
        raise _problem(path, f"not JSON (line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise _problem(path, "JSON nested too deeply") from None


_ROLES = ("system", "user", "assistant")


def _well_formed(message: Message) -> bool:
    """Whether the values ``from_dict`` passes through unchecked have their types."""
    number = int | float
    optional_text = str | None
    return (
        isinstance(message.completed_at, number | None)
        and isinstance(message.model, optional_text)
        and isinstance(message.error, optional_text)
        and all(
            isinstance(value, int | None) and not isinstance(value, bool)
            for c in message.citations
            for value in (c.page, c.line_start, c.line_end)
        )
    )


def _our_sessions(path: Path, records: Any) -> list[tuple[Session, list[Message]]]:
    if not isinstance(records, list):
        raise _problem(path, "its 'sessions' is not a list")
    found: list[tuple[Session, list[Message]]] = []
    for number, record in enumerate(records, start=1):
        if not (
            isinstance(record, dict)
            and isinstance(record.get("session"), dict)
            and isinstance(record.get("messages"), list)
            and all(isinstance(m, dict) for m in record["messages"])
        ):
            raise _problem(path, f"session {number} is not a session record")
        try:
            session = Session.from_dict(record["session"])
            messages = [Message.from_dict(m) for m in record["messages"]]
        except (TypeError, ValueError, AttributeError, OverflowError) as error:
            raise _problem(path, f"session {number} has bad values ({clean_line(error)})") from None
        if len({m.id for m in messages}) != len(messages):
            raise _problem(path, f"session {number} has two messages with one id")
        if any(m.role not in _ROLES for m in messages):
            raise _problem(path, f"session {number} has a message of an unknown role")
        if not all(_well_formed(m) for m in messages) or not isinstance(
            session.knowledge_base, str | None
        ):
            raise _problem(path, f"session {number} has a value of the wrong type")
        found.append((session, messages))
    return found


def read_import_file(path: Path, role: str) -> ReadFile:
    """The sessions in an export file: chat-tui JSON, or ChatGPT's (JSON or its zip).

    Args:
        path: the file.
        role: the role ChatGPT conversations are given (ours keep their own).

    Raises:
        TransferError: the file cannot be read or is neither format (one line).
    """
    data = _load_json(path)
    if isinstance(data, dict) and data.get("format") == EXPORT_FORMAT:
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise _problem(path, "a chat-tui export without a valid version")
        if version > EXPORT_VERSION:
            raise _problem(
                path,
                f"written by a newer chat-tui (export version {version}, this one reads "
                f"{EXPORT_VERSION}); upgrade chat-tui",
            )
        return ReadFile("chat-tui", _our_sessions(path, data.get("sessions")))
    if isinstance(data, dict) and "session" in data and "messages" in data:
        return ReadFile("chat-tui", _our_sessions(path, [data]))  # sessions show --json
    if looks_like_chatgpt(data):
        converted = chatgpt_sessions(data, role)
        return ReadFile("chatgpt", converted.sessions, converted.notes)
    raise _problem(path, "not a chat-tui export or a ChatGPT conversations.json")


def _content(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """What "the same messages" compares: every stored field but the session id."""
    records = []
    for message in messages:
        record = message.to_dict()
        record.pop("session_id", None)
        records.append(record)
    return records


def _candidate_ids(session_id: str, content: list[dict[str, Any]]) -> list[str]:
    digest = hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    copies = [
        hashlib.sha256(f"{session_id}:{digest}:{n}".encode()).hexdigest()[:32]
        for n in range(1, _MAX_COPIES)
    ]
    return [session_id, *copies]


def store_session(
    repository: SessionRepository, session: Session, messages: Sequence[Message]
) -> Imported:
    """Store one read session, never over another (see the module docstring; blocking).

    Raises:
        StorageError: the history cannot be written.
    """
    wanted = _content(messages)
    for candidate in _candidate_ids(session.id or new_id(), wanted):
        existing = repository.get_session(candidate)
        if existing is None:
            stored = repository.add_session(
                replace(session, id=candidate),
                [replace(m, session_id=candidate) for m in messages],
            )
            return Imported("imported" if candidate == session.id else "copied", stored, session.id)
        if _content(repository.messages(candidate)) == wanted:
            return Imported("skipped", existing, session.id)
    raise TransferError(
        f"session {clean_line(session.id)}: {_MAX_COPIES} different sessions hold its id already"
    )


def import_sessions(
    repository: SessionRepository,
    sessions: Sequence[tuple[Session, Sequence[Message]]],
    progress: Progress | None = None,
) -> list[Imported]:
    """Store every read session in turn (blocking); ``progress`` hears after each."""
    outcomes = []
    for done, (session, messages) in enumerate(sessions, start=1):
        outcomes.append(store_session(repository, session, messages))
        if progress is not None:
            progress(done, len(sessions))
    return outcomes


__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "Imported",
    "Progress",
    "ReadFile",
    "TransferError",
    "close_open_fence",
    "export_directory",
    "export_document",
    "export_file_name",
    "export_json",
    "export_markdown",
    "export_session_file",
    "import_sessions",
    "read_import_file",
    "session_markdown",
    "session_record",
    "store_session",
    "write_new_file",
]
