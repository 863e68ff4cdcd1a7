"""One session's TinyDB file, opened, with its messages parsed and kept in order.

The repository keeps a few of these in memory (most recently used), so showing a
session again costs nothing and a write only serialises that one session.

Order is storage order: TinyDB gives each inserted document a doc id above every id
in the table, so sorting by doc id is the order the messages were saved in. Sorting
by ``created_at`` instead would let a wall clock that stepped backwards (NTP, a VM
resumed, a hand-set clock) put a new answer above its question.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tinydb import TinyDB

from chat_tui.domain.models import Message, Session
from chat_tui.storage.schema import MESSAGES_TABLE, SESSION_TABLE, file_signature
from chat_tui.storage.tinydb_storage import AtomicCachedStorage, Tables


class SessionFile:
    """A session database through TinyDB: its own record and its messages.

    Args:
        path: the session's JSON file.
        data: its validated, parsed content.
        record_doc_id: the doc id of the session record in the "session" table.

    Raises:
        TypeError, ValueError: a message document cannot be turned into a Message.
    """

    def __init__(self, path: Path, data: Tables, record_doc_id: str = "1") -> None:
        self.path = path
        self.db = TinyDB(path, initial=data, storage=AtomicCachedStorage)
        self.storage: AtomicCachedStorage = self.db.storage  # type: ignore[assignment]
        self.record_table = self.db.table(SESSION_TABLE)
        self.message_table = self.db.table(MESSAGES_TABLE)
        self.record_doc_id = int(record_doc_id)
        self.doc_ids: dict[str, int] = {}
        loaded: list[tuple[int, Message]] = []
        for doc_id, doc in data.get(MESSAGES_TABLE, {}).items():
            message = Message.from_dict(doc)
            self.doc_ids[message.id] = int(doc_id)
            loaded.append((int(doc_id), message))
        loaded.sort(key=lambda item: item[0])
        self.ordered: list[Message] = [message for _, message in loaded]
        """Messages in the order they were stored (doc id order)."""

    @property
    def count(self) -> int:
        """How many messages the file holds."""
        return len(self.ordered)

    def _write_record(self, session: Session) -> None:
        self.record_table.update(session.to_dict(), doc_ids=[self.record_doc_id])

    def store_record(self, session: Session) -> str:
        """Write the session record; returns the file's new signature."""
        self._write_record(session)
        return file_signature(self.path)

    def add(self, message: Message, session: Session) -> str:
        """Store a new message and the updated record in one atomic write."""
        with self.storage.batch():
            doc_id = self.message_table.insert(message.to_dict())
            self._write_record(session)
        self.doc_ids[message.id] = doc_id
        self.ordered.append(message)  # the new doc id is above every other
        return file_signature(self.path)

    def replace(self, message: Message, session: Session) -> str:
        """Replace a stored message (same id) and the record in one atomic write.

        The message keeps its place in the order, whatever its ``created_at``.
        """
        doc_id = self.doc_ids[message.id]
        with self.storage.batch():
            self.message_table.update(message.to_dict(), doc_ids=[doc_id])
            self._write_record(session)
        self.ordered[self._position(message.id)] = message
        return file_signature(self.path)

    def remove(self, message_id: str, session: Session) -> str:
        """Remove one message and write the record in one atomic write."""
        doc_id = self.doc_ids[message_id]
        with self.storage.batch():
            self.message_table.remove(doc_ids=[doc_id])
            self._write_record(session)
        del self.doc_ids[message_id]
        del self.ordered[self._position(message_id)]
        return file_signature(self.path)

    def clear(self, session: Session) -> str:
        """Remove every message and write the record in one atomic write."""
        with self.storage.batch():
            self.message_table.truncate()
            self._write_record(session)
        self.doc_ids.clear()
        self.ordered.clear()
        return file_signature(self.path)

    def _position(self, message_id: str) -> int:
        for position in range(len(self.ordered) - 1, -1, -1):
            if self.ordered[position].id == message_id:
                return position
        raise KeyError(message_id)

    def close(self) -> None:
        """Drop the TinyDB handle (writes are already on disk)."""
        self.db.close()


def message_docs(messages: list[Message]) -> list[dict[str, Any]]:
    """Message documents in the order given (which becomes their storage order)."""
    return [message.to_dict() for message in messages]
