"""The app's actions in one table: default keys, binding ids, palette and help text.

Bindings, the command palette and the help screen are all generated from
``ACTIONS``, so a command can't exist in one place and be missing from another.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from textual.app import SystemCommand
from textual.binding import Binding

from chat_tui.domain.models import Role

#: Where an action's keys act: anywhere, only while the prompt has focus, or only
#: while the chat pane has focus (see ``ChatScreen.check_action``).
Context = Literal["app", "prompt", "chat"]


@dataclass(frozen=True)
class Action:
    """One user-facing action.

    ``keys`` are the names shown in help, the README and the footer, and the ones a
    ``[keymap]`` entry replaces. ``terminal_keys`` are extra names for the same key
    as some terminals deliver it (see ``ESC_DIGIT_KEYS``); they are never shown.
    An action without ``keys`` is a palette command only (no default key, no binding).
    An action with ``bound=False`` is handled inside a widget (the prompt's Enter,
    history and new line); it is listed so help and README show it too. An
    ``app_wide`` action (help, quit) is the App's and acts under dialogs too; the
    others are the chat screen's.
    """

    id: str
    keys: str
    action: str
    title: str
    help: str
    show: bool = False
    context: Context = "app"
    terminal_keys: str = ""
    bound: bool = True
    footer: str = ""
    app_wide: bool = False


def _key_name(character: str) -> str:
    """The key name Textual gives a printable character (its Unicode name, snake_case)."""
    if character.isalnum():
        return character
    return unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")


#: Terminals that send alt as an ESC prefix (xterm, tmux, GNOME/VTE, Konsole,
#: Alacritty, kitty without its keyboard protocol) send ``ESC 2`` for alt+2. Textual
#: 8.2.8's ``_ansi_sequences`` maps ``ESC 1`` .. ``ESC 9`` to the characters macOS
#: types with Option+digit (a table meant for WezTerm on macOS), so the app receives
#: a key named after ``™``, exactly what typing ``™`` gives. These names are bound to
#: the role switches as well; ``ChatScreen.check_action`` lets the character through to
#: the prompt when there is no role N, and pasted text (a Paste event) never switches.
ESC_DIGIT_CHARACTERS = "¡™£¢∞§¶•ª"
ESC_DIGIT_KEYS = {n: _key_name(c) for n, c in enumerate(ESC_DIGIT_CHARACTERS, start=1)}


ACTIONS: tuple[Action, ...] = (
    Action("prompt.send", "enter", "", "Send", "Send the prompt", context="prompt", bound=False),
    Action(
        "prompt.newline",
        "ctrl+j,shift+enter,alt+enter",
        "",
        "New line",
        "New line in the prompt (ctrl+j in every terminal; shift+enter and alt+enter "
        "only where the terminal reports them, e.g. kitty)",
        context="prompt",
        bound=False,
    ),
    Action(
        "prompt.history",
        "up,down",
        "",
        "History",
        "On the first / last line: walk the prompts sent before (kept across restarts)",
        context="prompt",
        bound=False,
    ),
    Action(
        "prompt.attach",
        "ctrl+t",
        "attach_image",
        "Attach image",
        "Attach an image to the next message (a path, Tab completes; pasting or dropping "
        "an image file into the prompt works too)",
    ),
    Action(
        "chat.page_up",
        "pageup",
        "scroll_chat('page_up')",
        "Page up",
        "Scroll the chat up a page",
        context="prompt",
    ),
    Action(
        "chat.page_down",
        "pagedown",
        "scroll_chat('page_down')",
        "Page down",
        "Scroll the chat down a page",
        context="prompt",
    ),
    Action(
        "chat.top",
        "ctrl+home",
        "scroll_chat('home')",
        "Chat top",
        "Scroll to the top of the chat",
        context="prompt",
    ),
    Action(
        "chat.bottom",
        "ctrl+end",
        "scroll_chat('end')",
        "Chat bottom",
        "Scroll to the bottom of the chat",
        context="prompt",
    ),
    Action(
        "chat.focus",
        "ctrl+o",
        "focus_chat",
        "Select messages",
        "Move into the chat to select messages (up/down, e, left/right, y, c, p; Esc returns)",
    ),
    Action(
        "chat.select_previous",
        "up,k",
        "select_message(-1)",
        "Previous message",
        "Select the previous message",
        context="chat",
    ),
    Action(
        "chat.select_next",
        "down,j",
        "select_message(1)",
        "Next message",
        "Select the next message",
        context="chat",
    ),
    Action(
        "chat.copy_message",
        "y",
        "copy_selected",
        "Copy message",
        "Copy the selected message (OSC 52)",
        context="chat",
    ),
    Action(
        "chat.copy_code",
        "c",
        "copy_code",
        "Copy code",
        "Copy a code block of the selected message (again: the next block)",
        context="chat",
    ),
    Action(
        "chat.paths",
        "p",
        "toggle_full_paths",
        "Full paths",
        "Show the selected answer's source paths in full, or shortened",
        context="chat",
    ),
    Action(
        "chat.images",
        "v",
        "preview_images",
        "Images",
        "Show the selected message's images (a half-block preview, any terminal)",
        context="chat",
    ),
    Action(
        "chat.edit",
        "e",
        "edit_message",
        "Edit message",
        "Edit the selected question and send it again: a new branch, the old one kept "
        "(double-click does it too)",
        context="chat",
    ),
    Action(
        "chat.branch_previous",
        "left,h",
        "switch_branch(-1)",
        "Previous version",
        "Show the previous version (‹ 1/2) of the selected message and its branch",
        context="chat",
    ),
    Action(
        "chat.branch_next",
        "right,l",
        "switch_branch(1)",
        "Next version",
        "Show the next version (2/2 ›) of the selected message and its branch",
        context="chat",
    ),
    Action(
        "chat.back",
        "escape,i",
        "leave_chat",
        "Back to prompt",
        "Back to the prompt (Esc stops a streaming answer first)",
        context="chat",
    ),
    Action(
        "app.help",
        "f1",
        "help",
        "Help",
        "Show every key binding (also in the palette)",
        True,
        app_wide=True,
    ),
    Action(
        "session.new",
        "ctrl+n",
        "new_session",
        "New session",
        "Start a new session for the current role",
        True,
        footer="New",
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
    Action(
        "answer.regenerate",
        "ctrl+g",
        "regenerate",
        "Regenerate",
        "Regenerate (or retry) the last answer; the earlier one is kept beside it (‹ 1/2)",
        True,
        footer="Regen",
    ),
    Action(
        "kb.toggle",
        "ctrl+b",
        "toggle_retrieval",
        "Knowledge base",
        "Turn knowledge-base retrieval on or off for this session",
        True,
        footer="KB",
    ),
    Action(
        "sidebar.toggle",
        "ctrl+s",
        "toggle_sidebar",
        "Sidebar",
        "Show or hide the sessions sidebar (hidden by itself when narrow)",
        True,
    ),
    Action("session.rename", "f2", "rename_session", "Rename", "Rename the current session"),
    Action(
        "session.delete",
        "ctrl+d",
        "delete_session",
        "Delete",
        "Delete the current session (asks first)",
    ),
    Action(
        "session.export",
        "",
        "export_session",
        "Export session (Markdown)",
        "Write the open session to a Markdown file in ~/Downloads (else the current "
        "folder); palette only",
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
        "answer.copy",
        "ctrl+y",
        "copy_answer",
        "Copy",
        "Copy the last answer to the clipboard (OSC 52)",
    ),
    Action(
        "history.search",
        "ctrl+f",
        "search_history",
        "Search history",
        "Search every session of every role as you type; Enter opens the session there",
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
    Action("app.quit", "ctrl+q", "quit", "Quit", "Quit chat-tui", True, app_wide=True),
) + tuple(
    Action(
        f"role.{n}",
        f"alt+{n}",
        f"switch_role({n})",
        f"Role {n}",
        f"Switch to role number {n}",
        terminal_keys=ESC_DIGIT_KEYS[n],
    )
    for n in range(1, 10)
)

ACTION_CONTEXT: dict[str, Context] = {
    a.action.split("(", 1)[0]: a.context for a in ACTIONS if a.bound and a.context != "app"
}
"""The context of each focus-dependent action, by action name (without parameters)."""


def keys_of(action_id: str) -> str:
    """The default keys of the action with ``action_id``."""
    return next(a.keys for a in ACTIONS if a.id == action_id)


def _binding(action: Action, namespace: str = "") -> Binding:
    return Binding(
        ",".join(k for k in (action.keys, action.terminal_keys) if k),
        namespace + action.action,
        action.footer or action.title,
        show=action.show,
        priority=action.id != "answer.stop",
        id=action.id,
        tooltip=action.help,
    )


def chat_bindings() -> list[Binding]:
    """The chat screen's bindings: every bound action, in the table's order.

    Priority bindings, so the focused widget can't swallow them; the focus-dependent
    ones are switched off outside their context by ``ChatScreen.check_action`` (the
    key then reaches the widget as usual). Esc alone is not priority: dialogs use it.
    The app-wide ones run on the App (``app.`` namespace); they are listed here too
    because the footer shows a screen's bindings before the App's, in this order:
    Quit first (where Textual's own App bindings always put ctrl+q), then the table's.
    """
    bound = sorted((a for a in ACTIONS if a.bound and a.keys), key=lambda a: a.id != "app.quit")
    return [_binding(a, "app." if a.app_wide else "") for a in bound]


def app_bindings() -> list[Binding]:
    """The App's bindings: the app-wide actions, so they act while a dialog is open."""
    return [_binding(a) for a in ACTIONS if a.bound and a.keys and a.app_wide]


def readme_table() -> str:
    """The README's key table (Markdown), generated from ``ACTIONS``.

    ``tests/tui/test_keys.py`` fails when README.md holds another table.
    """
    where = {"app": "", "prompt": " (in the prompt)", "chat": " (in the chat, after ctrl+o)"}
    lines = ["| key | action | binding id |", "|---|---|---|"]
    roles_done = False
    for action in ACTIONS:
        if action.id.startswith("role.") and action.id != "role.pick":
            if roles_done:
                continue
            roles_done = True
            lines.append(
                "| alt+1 … alt+9 | jump to role N (in role-picker order) | `role.1` … `role.9` |"
            )
            continue
        keys = ", ".join(k.strip() for k in action.keys.split(","))
        binding_id = f"`{action.id}`" if action.bound else "(widget)"
        lines.append(f"| {keys} | {action.help}{where[action.context]} | {binding_id} |")
    lines.append("| ctrl+p | command palette: every action by name | (palette) |")
    return "\n".join(lines)


def palette_commands(
    roles: Sequence[Role],
    providers: Iterable[str],
    run_action: Callable[[str], Awaitable[object]],
    switch_provider: Callable[[str], Awaitable[None]],
) -> Iterator[SystemCommand]:
    """Palette entries: every action (roles by name), and every provider profile.

    Given what it lists and the two callables that run an entry, not the App or the
    screen: this module is below both (they import it), never beside them.
    """

    def runner(action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await run_action(action)

        return run

    def provider(name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await switch_provider(name)

        return run

    for action in ACTIONS:
        if not action.bound or action.context != "app":
            continue  # keys inside a widget, not commands
        if action.id.startswith("role.") and action.id != "role.pick":
            continue  # listed by role name below
        if action.id == "app.quit":
            continue  # Textual's own "Quit" entry runs the same action
        # Run from the chat screen: the app-wide ones (help) are the App's.
        name = f"app.{action.action}" if action.app_wide else action.action
        yield SystemCommand(action.title, action.help, runner(name))
    for number, role in enumerate(roles, start=1):
        yield SystemCommand(
            f"Role: {role.name}",
            role.description or "Switch role",
            runner(f"switch_role({number})"),
        )
    for name in providers:
        yield SystemCommand(f"Provider: {name}", "Switch provider profile", provider(name))
