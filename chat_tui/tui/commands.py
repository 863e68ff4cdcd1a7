"""The app's actions in one table: default keys, binding ids, palette and help text.

Bindings, the command palette and the help screen are all generated from
``ACTIONS``, so a command can't exist in one place and be missing from another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding

if TYPE_CHECKING:
    from chat_tui.tui.app import ChatApp


@dataclass(frozen=True)
class Action:
    """One user-facing action."""

    id: str
    keys: str
    action: str
    title: str
    help: str
    show: bool = False


ACTIONS: tuple[Action, ...] = (
    Action(
        "session.new",
        "ctrl+n",
        "new_session",
        "New session",
        "Start a new session for the current role",
        True,
    ),
    Action(
        "session.previous",
        "ctrl+up,ctrl+pageup",
        "previous_session",
        "Previous session",
        "Open the previous session of this role",
    ),
    Action(
        "session.next",
        "ctrl+down,ctrl+pagedown",
        "next_session",
        "Next session",
        "Open the next session of this role",
    ),
    Action(
        "role.pick",
        "ctrl+r",
        "pick_role",
        "Role",
        "Choose a role (persona); each role has its own sessions",
        True,
    ),
    Action("session.rename", "f2", "rename_session", "Rename", "Rename the current session", True),
    Action(
        "session.delete",
        "ctrl+d",
        "delete_session",
        "Delete",
        "Delete the current session (asks first)",
        True,
    ),
    Action(
        "session.clear",
        "ctrl+l",
        "clear_session",
        "Clear",
        "Clear the current session's history (asks first)",
    ),
    Action(
        "answer.stop",
        "escape",
        "stop_answer",
        "Stop",
        "Stop the answer being streamed; the partial answer is kept",
    ),
    Action(
        "answer.regenerate",
        "ctrl+g",
        "regenerate",
        "Regenerate",
        "Regenerate (or retry) the last answer",
        True,
    ),
    Action(
        "answer.copy",
        "ctrl+y",
        "copy_answer",
        "Copy",
        "Copy the last answer to the clipboard (OSC 52)",
    ),
    Action(
        "kb.toggle",
        "ctrl+b",
        "toggle_retrieval",
        "Knowledge base",
        "Turn knowledge-base retrieval on or off for this session",
        True,
    ),
    Action("kb.search", "f3", "search_knowledge", "Search KB", "Search the knowledge base"),
    Action(
        "kb.pick",
        "f6",
        "pick_knowledge_base",
        "Choose KB",
        "Choose the knowledge base for this session",
    ),
    Action(
        "model.pick", "f4", "pick_model", "Model", "Choose the model (from the server's /v1/models)"
    ),
    Action(
        "provider.pick",
        "f5",
        "pick_provider",
        "Provider",
        "Switch the provider profile (openai, deepseek, ollama, ...)",
    ),
    Action("app.help", "f1", "help", "Help", "Show every key binding", True),
    Action("app.quit", "ctrl+q", "quit", "Quit", "Quit chat-tui", True),
) + tuple(
    Action(f"role.{n}", f"alt+{n}", f"switch_role({n})", f"Role {n}", f"Switch to role number {n}")
    for n in range(1, 10)
)


def bindings() -> list[Binding]:
    """Textual bindings for every action; priority so the prompt can't swallow them."""
    return [
        Binding(
            a.keys,
            a.action,
            a.title,
            show=a.show,
            priority=a.id != "answer.stop",
            id=a.id,
            tooltip=a.help,
        )
        for a in ACTIONS
    ]


def palette_commands(app: ChatApp) -> Iterator[SystemCommand]:
    """Palette entries: every action (roles by name), and every provider profile."""

    def runner(action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await app.run_action(action)

        return run

    def provider(name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await app.switch_provider(name)

        return run

    for action in ACTIONS:
        if action.id.startswith("role.") and action.id != "role.pick":
            continue  # listed by role name below
        if action.id == "app.quit":
            continue  # Textual's own "Quit" entry runs the same action
        yield SystemCommand(action.title, action.help, runner(action.action))
    for number, role in enumerate(app.services.roles, start=1):
        yield SystemCommand(
            f"Role: {role.name}",
            role.description or "Switch role",
            runner(f"switch_role({number})"),
        )
    for name in app.services.chat.settings.providers:
        yield SystemCommand(f"Provider: {name}", "Switch provider profile", provider(name))
