"""Conversation branches: which messages are shown, and the other versions of each.

Editing an earlier question or regenerating an answer replaces nothing: the new
message is stored beside the old one (the same ``parent_id``), so a session's
messages form a tree. What the user sees, what is sent to the model, what
``sessions show`` prints, is one path through that tree: from the first message
through the session's ``current_leaf`` and on through the newest reply at each step
below it (so a message sent on a branch extends it without anything else being
stored). This module is the pure part of that: no storage, no UI.

A message without a parent link (``parent_id`` None: stored before branches existed,
by an older chat-tui still running, or by code that does not branch) follows the
message stored before it, so every old history reads as the one line it was; no
file is rewritten for branches. ``FIRST`` marks a message that starts a conversation
(an edited first question).

Rules for what a file may hold (hand edits, damage): a parent is honoured only when
it is a message stored *before* its child (a real parent always is: it exists when
the reply is made), so a cycle cannot hang anything; a link to a message that is not
there (lost with a damaged file) counts as no link, so nothing is hidden behind it.
A repeated id counts once (its first copy).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chat_tui.domain.models import FIRST, Message


@dataclass(frozen=True)
class BranchPosition:
    """Where a message stands among its siblings: ``index`` of ``count`` (1-based)."""

    index: int
    count: int

    def label(self) -> str:
        """``"2/3"``."""
        return f"{self.index}/{self.count}"


class Branches:
    """The tree of one session's messages.

    Args:
        messages: every message of the session, in storage order.
    """

    def __init__(self, messages: Iterable[Message]) -> None:
        self._by_id: dict[str, Message] = {}
        self._parent: dict[str, str | None] = {}
        self._children: dict[str | None, list[str]] = {None: []}
        previous: str | None = None
        for message in messages:
            if message.id in self._by_id:
                continue
            parent: str | None
            if message.parent_id == FIRST:
                parent = None
            elif message.parent_id in self._by_id:
                parent = message.parent_id
            else:
                parent = previous
            previous = message.id
            self._by_id[message.id] = message
            self._parent[message.id] = parent
            self._children.setdefault(parent, []).append(message.id)
            self._children[message.id] = []

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._by_id

    def get(self, message_id: str) -> Message | None:
        """The message with this id, or None."""
        return self._by_id.get(message_id)

    def parent_of(self, message_id: str) -> str | None:
        """The id of the message this one follows (None: a first message, or unknown)."""
        return self._parent.get(message_id)

    def link_to(self, message_id: str) -> str:
        """The ``parent_id`` a new version of a message gets: its parent's, or ``FIRST``."""
        return self._parent.get(message_id) or FIRST

    def children(self, message_id: str | None) -> list[Message]:
        """The replies to a message (``None``: the first messages), oldest first."""
        return [self._by_id[i] for i in self._children.get(message_id, ())]

    def siblings(self, message_id: str) -> list[Message]:
        """The versions of a message: it and the others with its parent, oldest first."""
        if message_id not in self._by_id:
            return []
        return self.children(self._parent[message_id])

    def position(self, message_id: str) -> BranchPosition:
        """Where the message stands among its siblings (``1/1`` when it has none)."""
        ids = self._children.get(self._parent.get(message_id), [])
        if message_id not in ids:
            return BranchPosition(1, 1)
        return BranchPosition(ids.index(message_id) + 1, len(ids))

    def newest_leaf(self, message_id: str | None) -> str | None:
        """Down from a message through the newest reply at each step, to the end."""
        current = message_id
        while True:
            below = self._children.get(current)
            if not below:
                return current
            current = below[-1]

    def path_to(self, message_id: str) -> list[Message]:
        """The conversation up to and including a message (empty when unknown)."""
        path: list[Message] = []
        current: str | None = message_id if message_id in self._by_id else None
        while current is not None:
            path.append(self._by_id[current])
            current = self._parent[current]
        path.reverse()
        return path

    def path(self, leaf: str | None) -> list[Message]:
        """The conversation shown: up to ``leaf``, then on through the newest replies.

        ``leaf`` None or unknown (deleted, from another version): the newest path.
        """
        start = leaf if leaf in self._by_id else None
        end = self.newest_leaf(start)
        return self.path_to(end) if end is not None else []

    def switched(self, message_id: str, step: int) -> str | None:
        """The leaf to show after moving ``step`` versions away from a message.

        The other version is followed down through its newest replies. None when there
        is no version that far (the first or last one is shown already).
        """
        ids = self._children.get(self._parent.get(message_id), [])
        if message_id not in ids:
            return None
        index = ids.index(message_id) + step
        if step == 0 or not 0 <= index < len(ids):
            return None
        return self.newest_leaf(ids[index])


@dataclass(frozen=True)
class Conversation:
    """A session as a front end shows it: the branch shown and where each of its
    messages stands among its versions."""

    shown: list[Message]
    tree: Branches

    @classmethod
    def of(cls, messages: Sequence[Message], leaf: str | None) -> Conversation:
        tree = Branches(messages)
        return cls(tree.path(leaf), tree)

    def positions(self) -> dict[str, BranchPosition]:
        """The shown messages that have other versions, and which version each is."""
        found = {m.id: self.tree.position(m.id) for m in self.shown}
        return {mid: position for mid, position in found.items() if position.count > 1}


def visible_path(messages: Sequence[Message], leaf: str | None) -> list[Message]:
    """The messages shown for a session (see :meth:`Branches.path`)."""
    return Branches(messages).path(leaf)


__all__ = ["BranchPosition", "Branches", "Conversation", "visible_path"]
