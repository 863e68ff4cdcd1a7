"""Reading ChatGPT's data export (``conversations.json``) as chat-tui sessions.

Why a module of its own: the format is someone else's and changes under us (content
types come and go: ``text``, ``multimodal_text``, ``code``, ``thoughts``...), so its
quirks stay here, in pure functions from parsed JSON to ``(Session, messages)``, away
from the storage side of an import (:mod:`chat_tui.services.transfer`).

A conversation is a tree: ``mapping`` holds nodes with ``parent`` and ``children``,
every edit or regeneration starts a branch, and ``current_node`` is the leaf the user
last saw. The branch kept is the path from that leaf back to the root, stored as a
linear conversation. System, tool and hidden nodes (custom instructions, browsing,
code-interpreter calls) are not part of what the user read, so they are left out.

Ids are derived from the conversation's and nodes' ids, so importing the same export
again finds the sessions it stored before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from chat_tui.domain.models import ChatRole, Message, Session
from chat_tui.domain.text import clean_line


def looks_like_chatgpt(data: Any) -> bool:
    """Whether parsed JSON is a ChatGPT ``conversations.json`` (a list of conversations)."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(item, dict) for item in data[:5])
        and any("mapping" in item for item in data[:5])
    )


def stable_id(*parts: str) -> str:
    """A 32-hex id derived from ``parts`` (the same parts always give the same id)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


@dataclass
class Conversion:
    """The sessions read from an export, and one line per conversation left out."""

    sessions: list[tuple[Session, list[Message]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def chatgpt_sessions(data: Sequence[Any], role: str) -> Conversion:
    """Every conversation of a ChatGPT export as a session of ``role``, current branch only.

    A conversation that cannot be read (no ``mapping``, nothing on its current branch)
    is left out with a note; the others are still converted.
    """
    result = Conversion()
    for number, conversation in enumerate(data, start=1):
        if not isinstance(conversation, dict) or not isinstance(conversation.get("mapping"), dict):
            result.notes.append(f"conversation {number}: no message tree (mapping); left out")
            continue
        converted = _conversation(conversation, role, number)
        title = clean_line(str(conversation.get("title") or f"conversation {number}"))
        if converted is None:
            result.notes.append(f"{title!r}: nothing on its current branch; left out")
            continue
        result.sessions.append(converted)
    return result


def _table(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a damaged node)."""
    return value if isinstance(value, dict) else {}


def _time(value: Any) -> float | None:
    """A ChatGPT timestamp (float seconds, sometimes None or missing) or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value > 0 else None


def current_branch(mapping: Mapping[str, Any], current: Any) -> list[dict[str, Any]]:
    """The nodes from the root to ``current`` (or, when it is unknown, the newest leaf)."""
    if not isinstance(current, str) or current not in mapping:
        leaves = [
            key
            for key, node in mapping.items()
            if isinstance(node, dict) and not node.get("children")
        ]

        def when(key: str) -> float:
            message = mapping[key].get("message")
            found = _time(message.get("create_time")) if isinstance(message, dict) else None
            return found or 0.0

        current = max(leaves, key=when, default=None)
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    node_id = current
    while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
        seen.add(node_id)  # a cycle in a damaged file ends the walk, not the program
        node = mapping[node_id]
        if not isinstance(node, dict):
            break
        path.append(node)
        node_id = node.get("parent")
    path.reverse()
    return path


def _text(content: Mapping[str, Any]) -> str:
    """The readable text of a message's ``content`` ("" for what the user never read)."""
    kind = content.get("content_type")
    if kind in ("text", "multimodal_text"):
        pieces: list[str] = []
        for part in content.get("parts") or ():
            if isinstance(part, str):
                if part:
                    pieces.append(part)
            elif isinstance(part, dict):
                pieces.append("[image]" if "image" in str(part.get("content_type")) else "[file]")
        return "\n\n".join(pieces)
    if kind == "code" and isinstance(content.get("text"), str):
        return f"```\n{content['text']}\n```"
    return ""


def _thoughts(content: Mapping[str, Any]) -> str:
    """The reasoning of a ``thoughts`` node (o1/o3 models), as text."""
    if content.get("content_type") != "thoughts":
        return ""
    pieces = []
    for thought in content.get("thoughts") or ():
        if isinstance(thought, dict):
            text = "\n".join(
                str(thought[key]) for key in ("summary", "content") if thought.get(key)
            )
            if text:
                pieces.append(text)
    return "\n\n".join(pieces)


def _conversation(
    conversation: Mapping[str, Any], role: str, number: int
) -> tuple[Session, list[Message]] | None:
    mapping: Mapping[str, Any] = conversation["mapping"]
    raw_id = conversation.get("conversation_id") or conversation.get("id")
    conversation_id = (
        str(raw_id)
        if raw_id
        else stable_id(str(conversation.get("title")), str(conversation.get("create_time")))
    )
    session_id = stable_id("chatgpt", conversation_id)
    started = _time(conversation.get("create_time"))
    clock = started or 0.0
    messages: list[Message] = []
    reasoning = ""
    for node in current_branch(mapping, conversation.get("current_node")):
        message = node.get("message")
        if not isinstance(message, dict):
            continue
        speaker = _table(message.get("author")).get("role")
        content = _table(message.get("content"))
        metadata = _table(message.get("metadata"))
        clock = _time(message.get("create_time")) or clock
        if speaker not in ("user", "assistant") or message.get("recipient", "all") != "all":
            continue  # system prompts, tool calls and tool output
        if metadata.get("is_visually_hidden_from_conversation"):
            continue
        thought = _thoughts(content)
        if thought:
            reasoning = f"{reasoning}\n\n{thought}" if reasoning else thought
            continue
        text = _text(content)
        if not text:
            continue
        chat_role: ChatRole = "user" if speaker == "user" else "assistant"
        model = metadata.get("model_slug") if chat_role == "assistant" else None
        if chat_role == "assistant" and messages and messages[-1].role == "assistant":
            # An answer continued after a tool call: one answer, as the user read it.
            last = messages[-1]
            messages[-1] = replace(
                last,
                content=f"{last.content}\n\n{text}",
                reasoning="\n\n".join(r for r in (last.reasoning, reasoning) if r),
            )
            reasoning = ""
            continue
        messages.append(
            Message(
                session_id=session_id,
                role=chat_role,
                content=text,
                id=stable_id("chatgpt", conversation_id, str(node.get("id") or len(messages))),
                reasoning=reasoning if chat_role == "assistant" else "",
                created_at=clock,
                model=str(model) if isinstance(model, str) and model else None,
            )
        )
        if chat_role == "assistant":
            reasoning = ""
    if not messages:
        return None
    created = started or messages[0].created_at
    updated = _time(conversation.get("update_time")) or max(m.created_at for m in messages)
    session = Session(
        role=role,
        id=session_id,
        title=str(conversation.get("title") or f"ChatGPT conversation {number}"),
        created_at=created,
        updated_at=max(updated, created),
        message_count=len(messages),
        titled=True,
    )
    return session, messages


__all__ = ["Conversion", "chatgpt_sessions", "current_branch", "looks_like_chatgpt", "stable_id"]
