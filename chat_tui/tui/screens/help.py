"""The help screen (F1): every binding with its current keys and its id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from chat_tui.tui.commands import ACTIONS


def help_rows(keymap: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(keys, description, binding id) of every action, with ``keymap``'s rebindings."""
    rows = [(keymap.get(a.id, a.keys), a.help, a.id) for a in ACTIONS if not a.id[-1].isdigit()]
    role_keys = [keymap.get(f"role.{n}", f"alt+{n}") for n in range(1, 10)]
    rows.insert(
        4,
        (
            f"{role_keys[0]} … {role_keys[-1]}",
            "Jump to role N (in role-picker order)",
            "role.1 … role.9",
        ),
    )
    rows.append(("ctrl+p", "Command palette: every action by name", "(palette)"))
    rows.append(("enter", "Send the prompt", "(prompt)"))
    rows.append(("ctrl+j, shift+enter", "New line in the prompt (alt+enter too)", "(prompt)"))
    return rows


def format_keys(keys: str) -> str:
    return ", ".join(key.strip() for key in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """Lists the bindings as the keymap has them now."""

    BINDINGS = [Binding("escape,f1,q", "dismiss(None)", "Close", show=False)]

    def __init__(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Args: rows: (keys, description, binding id) triples."""
        super().__init__(classes="dialog-screen")
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Label(Content.styled("chat-tui keys", "bold"), classes="dialog-title")
            table: DataTable[str] = DataTable(
                cursor_type="row", zebra_stripes=True, id="help-table"
            )
            yield table
            yield Static(
                Content(
                    'Rebind any key in config.toml under [keymap], e.g. "session.new" = "ctrl+t".  '
                    "Every action is also in the command palette (ctrl+p).  Esc closes."
                ),
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Keys", "Action", "Binding id")
        for keys, description, binding_id in self.rows:
            table.add_row(format_keys(keys), description, binding_id)
        table.focus()
