"""Branches of a conversation: the path shown, versions of a message, switching."""

from __future__ import annotations

import random

from chat_tui.domain.branches import Branches, visible_path
from chat_tui.domain.models import FIRST, ChatRole, Message, Session


def msg(mid: str, role: ChatRole = "user", parent: str | None = None) -> Message:
    return Message(session_id="s", role=role, content=mid, id=mid, parent_id=parent)


def ids(messages: list[Message]) -> list[str]:
    return [m.id for m in messages]


def edited_history() -> list[Message]:
    """q1 a1 q2 a2, then q2 edited (q2b) and answered, then a2b regenerated as a2c."""
    return [
        msg("q1", "user", FIRST),
        msg("a1", "assistant", "q1"),
        msg("q2", "user", "a1"),
        msg("a2", "assistant", "q2"),
        msg("q2b", "user", "a1"),
        msg("a2b", "assistant", "q2b"),
        msg("a2c", "assistant", "q2b"),
    ]


def test_messages_without_links_read_as_one_line() -> None:
    # Every history stored before branches: no parent_id at all.
    old = [msg("q1"), msg("a1", "assistant"), msg("q2"), msg("a2", "assistant")]
    assert ids(visible_path(old, None)) == ["q1", "a1", "q2", "a2"]
    assert ids(visible_path(old, "a1")) == ["q1", "a1", "q2", "a2"]  # on through the newest
    tree = Branches(old)
    assert all(tree.position(m.id).label() == "1/1" for m in old)


def test_the_newest_branch_is_shown_and_the_old_one_kept() -> None:
    tree = Branches(edited_history())
    assert ids(tree.path(None)) == ["q1", "a1", "q2b", "a2c"]
    assert tree.position("q2b").label() == "2/2" and tree.position("q2").label() == "1/2"
    assert tree.position("a2c").label() == "2/2" and tree.position("a2").label() == "1/1"
    assert ids(tree.path("a2")) == ["q1", "a1", "q2", "a2"]
    assert ids(tree.path("a2b")) == ["q1", "a1", "q2b", "a2b"]


def test_switching_follows_the_newest_reply_of_the_other_version() -> None:
    tree = Branches(edited_history())
    assert tree.switched("q2b", -1) == "a2"
    assert tree.switched("q2", 1) == "a2c"
    assert tree.switched("q2", -1) is None and tree.switched("q2b", 1) is None
    assert tree.switched("a2c", -1) == "a2b"
    assert tree.switched("q1", 1) is None and tree.switched("nope", 1) is None


def test_an_edited_first_question_is_a_second_conversation_start() -> None:
    history = [msg("q1", "user", FIRST), msg("a1", "assistant", "q1")]
    tree = Branches(history)
    assert tree.link_to("q1") == FIRST and tree.link_to("a1") == "q1"
    history += [msg("q1b", "user", FIRST), msg("a1b", "assistant", "q1b")]
    tree = Branches(history)
    assert ids(tree.path(None)) == ["q1b", "a1b"]
    assert tree.position("q1b").label() == "2/2"
    assert ids(tree.path(tree.switched("q1b", -1))) == ["q1", "a1"]


def test_a_sent_message_extends_the_branch_it_was_sent_on() -> None:
    history = [*edited_history(), msg("q3", "user", "a2"), msg("a3", "assistant", "q3")]
    tree = Branches(history)
    # The leaf chosen was a2 (the old branch): the new turn continues it.
    assert ids(tree.path("a2")) == ["q1", "a1", "q2", "a2", "q3", "a3"]


def test_broken_links_neither_hang_nor_hide_messages() -> None:
    history = [
        msg("a", "user", "b"),  # its parent is stored after it: a cycle in the making
        msg("b", "assistant", "a"),
        msg("c", "user", "gone"),  # its parent was lost with a damaged file
        msg("c", "user", "b"),  # a repeated id counts once
    ]
    assert ids(visible_path(history, None)) == ["a", "b", "c"]
    assert ids(visible_path(history, "unknown")) == ["a", "b", "c"]
    assert visible_path([], None) == []


def test_random_trees_always_give_a_path_through_the_leaf() -> None:
    rng = random.Random(11)
    for _ in range(300):
        history: list[Message] = []
        for n in range(rng.randint(1, 25)):
            choice = rng.random()
            if choice < 0.2 or not history:
                parent: str | None = FIRST if choice < 0.1 else None
            else:
                parent = rng.choice(history).id
            history.append(msg(f"m{n}", rng.choice(["user", "assistant"]), parent))
        tree = Branches(history)
        leaf = rng.choice(history).id
        path = tree.path(leaf)
        assert leaf in ids(path)
        assert not tree.children(path[-1].id)  # it runs to the end
        for earlier, later in zip(path, path[1:], strict=False):
            assert tree.parent_of(later.id) == earlier.id


def test_links_survive_the_file_format_and_old_files_load() -> None:
    for parent in (None, FIRST, "q1"):
        message = msg("x", "user", parent)
        assert Message.from_dict(message.to_dict()) == message
    old = msg("x").to_dict()
    del old["parent_id"]
    assert Message.from_dict(old).parent_id is None
    assert Message.from_dict({**old, "parent_id": 7}).parent_id is None  # hand-edited
    session = Session(role="assistant", current_leaf="a2")
    assert Session.from_dict(session.to_dict()) == session
    assert Session.from_dict({"id": "s", "role": "r"}).current_leaf is None
